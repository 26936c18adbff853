import { main } from "./cli/main.ts"

// Output goes through console.log, which ends quietly when a reader closes the pipe early (`| head`).
void main(process.argv)
