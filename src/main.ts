import { BunRuntime } from "@effect/platform-bun"
import { main } from "./cli/main.ts"

// `grove task list --json | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(process.exitCode ?? 0)
  throw error
})

BunRuntime.runMain(main(process.argv), { disableErrorReporting: false, disablePrettyLogger: true })
