import type { HandlerModule } from "../spec.ts"
import { apart } from "./apart.ts"

/**
 * The one door from the command table to the handlers (and Effect). The
 * release build bundles everything behind it into a second file that only a
 * command that runs loads; inside it, each module still evaluates only when
 * its command is invoked. `mcp` and `board` are bundles of their own (apart.ts).
 */
export const load = (module: HandlerModule) => {
  switch (module) {
    case "entities":
      return import("./entities.ts")
    case "reads":
      return import("./reads.ts")
    case "task":
      return import("./task.ts")
    case "dep":
      return import("./dep.ts")
    case "bulk":
      return import("./bulk.ts")
    case "sync":
      return import("./sync.ts")
    case "pull":
      return import("./pull.ts")
    case "status":
      return import("./status.ts")
    case "migrate":
      return import("./migrate.ts")
    case "admin":
      return import("./admin.ts")
    case "work":
      return import("./work.ts")
    case "next":
      return import("./next.ts")
    case "session":
      return import("./session.ts")
    case "plan":
      return import("./plan.ts")
    case "board":
      return apart("board", () => import("./board.ts"))
    case "mcp":
      return apart("mcp", () => import("./mcp.ts"))
  }
}

export { execute } from "../execute.ts"
