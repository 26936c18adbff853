/**
 * Size limits of the text users and agents give (docs/cli.md, "Size limits"),
 * in characters. Beyond them a command fails with invalid_input (a bulk line
 * with bulk_input_invalid naming the line) and writes nothing.
 */
export const sizeLimits = { title: 500, description: 50_000, owner: 200 } as const

/** The first field over its limit, as a message in user words; undefined when all fit. */
export const oversized = (fields: { readonly title?: string | undefined; readonly description?: string | undefined; readonly owner?: string | null | undefined }) => {
  for (const name of ["title", "description", "owner"] as const) {
    const value = fields[name]
    if (typeof value === "string" && value.length > sizeLimits[name]) {
      return { field: name, message: `${name} is ${value.length} characters; at most ${sizeLimits[name]} are allowed` }
    }
  }
  return undefined
}
