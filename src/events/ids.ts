
const alphabet = "0123456789abcdefghjkmnpqrstvwxyz" // Crockford base32, lower case

const encodeTime = (ms: number, length: number) => {
  let out = ""
  for (let i = 0; i < length; i++) {
    out = alphabet[ms % 32] + out
    ms = Math.floor(ms / 32)
  }
  return out
}

// Web Crypto, not node:crypto: loading node:crypto costs milliseconds of every cold start.
const randomBytes = (length: number) => crypto.getRandomValues(new Uint8Array(length))

const randomChars = (length: number) => {
  const bytes = randomBytes(length)
  let out = ""
  for (let i = 0; i < length; i++) out += alphabet[bytes[i]! & 31]
  return out
}

let lastMs = -1
let lastRandom: Array<number> = []

/**
 * A ULID-shaped event id (48-bit time + 80 random bits, 26 chars): unique
 * across replicas and sortable by creation time; monotonic within a process.
 */
export const newEventId = (now: number = Date.now()): string => {
  if (now <= lastMs) {
    // Same millisecond: increment the random part so ids still sort in creation order.
    for (let i = lastRandom.length - 1; i >= 0; i--) {
      if (lastRandom[i]! < 31) {
        lastRandom[i]!++
        break
      }
      lastRandom[i] = 0
    }
  } else {
    lastMs = now
    lastRandom = Array.from(randomBytes(16), (b) => b & 31)
  }
  return encodeTime(lastMs, 10) + lastRandom.map((d) => alphabet[d]).join("")
}

const prefixes = { epic: "e", task: "t", subtask: "s" } as const

/** A short id people can type: kind prefix plus 10 random base32 chars (50 bits). */
export const newEntityId = (kind: keyof typeof prefixes): string => `${prefixes[kind]}-${randomChars(10)}`
