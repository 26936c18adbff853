/** Reproducible randomness for tests and benchmarks: a seeded PRNG, and seeds that are printed so a failure replays. */

/** A deterministic PRNG (mulberry32) for reproducible random command sequences. */
export const seededRandom = (seed: number) => {
  let a = seed >>> 0
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
  return {
    /** A float in [0, 1). */
    next,
    /** An integer in [0, n). */
    int: (n: number) => Math.floor(next() * n),
    pick: <A>(xs: ReadonlyArray<A>): A | undefined => (xs.length === 0 ? undefined : xs[Math.floor(next() * xs.length)])
  }
}

/**
 * The seed of a randomized test: the value of the environment variable
 * `variable` when set, else a fresh one. Printed with the command line that
 * replays it, so a failure can be reproduced.
 */
export const replayableSeed = (label: string, variable: string): number => {
  const given = process.env[variable]
  const seed = given !== undefined && given !== "" ? Number(given) : (Date.now() ^ Math.floor(Math.random() * 0x7fffffff)) | 0
  console.log(`${label}: seed ${seed} (${variable}=${seed} replays)`)
  return seed
}
