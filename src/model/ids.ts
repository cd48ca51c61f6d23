import { randomBytes } from 'node:crypto'

let lastMs = 0
let counter = 0

/** A UUIDv7 (RFC 9562): 48-bit Unix milliseconds, then random bits; monotonic within one process. */
export function uuidv7(now: number = Date.now()): string {
  // Keep ids ordered when several are made in the same millisecond: bump a 12-bit counter in rand_a.
  if (now <= lastMs) {
    counter++
    if (counter > 0xfff) {
      lastMs++
      counter = 0
    }
  } else {
    lastMs = now
    counter = 0
  }
  const bytes = randomBytes(16)
  const ms = BigInt(lastMs)
  for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn)
  bytes[6] = 0x70 | ((counter >> 8) & 0x0f)
  bytes[7] = counter & 0xff
  bytes[8] = 0x80 | (bytes[8]! & 0x3f)
  const hex = bytes.toString('hex')
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i

/** True for a well-formed UUID string (any version). */
export function isUuid(value: string): boolean {
  return UUID.test(value)
}
