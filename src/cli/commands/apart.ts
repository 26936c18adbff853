/**
 * Loads a handler module that the release build keeps in a bundle of its own
 * (`grove mcp` with the MCP SDK, `grove board`: a third of the handlers'
 * code), so that no other command pays to load it. From the sources it is a
 * plain import; scripts/build.ts replaces this module in the bundle.
 */
export const apart = <A>(_name: "mcp" | "board", load: () => Promise<A>): Promise<A> => load()
