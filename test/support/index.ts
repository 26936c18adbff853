/**
 * The test fixtures, one of each: environment (env.ts), repositories with
 * worktrees, remotes and clones (repo.ts), clones of one remote driven by the
 * CLI (clones.ts), the database file read raw (db.ts),
 * seeded randomness (random.ts), grove's services in-process (effect.ts) and
 * the one-line tracker and sync steps scenarios share (steps.ts), the
 * CLI as a process (cli.ts), and per-file set-up and clean-up (suite.ts).
 * Benchmarks import the modules without bun:test directly.
 */
export * from "./cli.ts"
export * from "./clones.ts"
export * from "./db.ts"
export * from "./effect.ts"
export * from "./env.ts"
export * from "./random.ts"
export * from "./repo.ts"
export * from "./steps.ts"
export * from "./suite.ts"
