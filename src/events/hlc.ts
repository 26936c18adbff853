/**
 * Hybrid logical clock stamps as one integer: wall milliseconds times 1024 plus
 * a logical counter. A stamp is never behind wall time and, because the last
 * stamp is read and written under the database write lock, strictly increasing
 * across every writer of the database. 2^10 stamps per millisecond keeps the
 * value below 2^53 until the year 2248.
 */
export const logicalSlots = 1024

/** The next `count` stamps after `last` at wall time `nowMs`. */
export const nextStamps = (last: number, nowMs: number, count: number): { first: number; last: number } => {
  const first = Math.max(last + 1, nowMs * logicalSlots)
  return { first, last: first + count - 1 }
}

/** The wall time a stamp carries, in milliseconds. */
export const wallTimeOf = (stamp: number): number => Math.floor(stamp / logicalSlots)
