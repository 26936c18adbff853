import type { Database } from "bun:sqlite"

/** A migration's down that cannot be undone (it would have to invent lost data). */
export const irreversible = { irreversible: true } as const
export type Irreversible = typeof irreversible

/**
 * One schema step. `up` and `down` are SQL scripts. A step that deletes data
 * names the delete and a cheap EXISTS probe: the delete runs only when the
 * probe finds something, and a backup is taken first.
 */
export interface Migration {
  readonly version: number
  readonly name: string
  readonly up: string
  /**
   * Work SQL cannot express (hashing), run after `up` in the same transaction.
   * It is named in `name` and not part of the checksum: never change it once shipped.
   */
  readonly upCode?: (db: Database) => void
  readonly down: string | Irreversible
  readonly destructive?: {
    /** `SELECT EXISTS (...)`: true when the delete has something to remove. */
    readonly probe: string
    readonly delete: string
  }
}

export const isIrreversible = (m: Migration): boolean => typeof m.down !== "string"

/** Fingerprint of everything a migration runs, recorded when it is applied. */
export const checksum = (m: Migration): string =>
  new Bun.CryptoHasher("sha256")
    .update(JSON.stringify([m.version, m.name, m.up, m.down, m.destructive ?? null]))
    .digest("hex")
    .slice(0, 16)

/** A list must run 1, 2, 3, ... with no gap; anything else is a programming error. */
export const assertContiguous = (list: ReadonlyArray<Migration>): void => {
  list.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new Error(`migration list is not contiguous: position ${i} holds version ${m.version}`)
    }
  })
}
