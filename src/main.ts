import { BunRuntime } from "@effect/platform-bun"
import { main } from "./cli/main.ts"

BunRuntime.runMain(main(process.argv), { disableErrorReporting: false, disablePrettyLogger: true })
