// No Effect here: the command line's parser (dist/grove.js) uses it before Effect loads.

/** Damerau-free edit distance, enough to suggest `task` for `tsk` and `--description` for `--desc`. */
const distance = (a: string, b: string) => {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = current
    }
  }
  return row[b.length]!
}

/** The closest candidate, for "did you mean" (a command, a flag, a key of a bulk line): a prefix, or within a third of the word's length in edits. */
export const suggest = (word: string, candidates: Iterable<string>): string | undefined => {
  let best: { name: string; d: number } | undefined
  for (const name of candidates) {
    const d = name.startsWith(word) && word.length >= 2 ? 0.5 : distance(word, name)
    if (d <= Math.max(1, Math.floor(name.length / 3)) && (best === undefined || d < best.d)) best = { name, d }
  }
  return best?.name
}
