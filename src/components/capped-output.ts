import type { Readable } from 'node:stream'

/** What was kept of a stream: its text, and whether the cap cut it. */
export type CappedText = { text: string; truncated: boolean }

/**
 * Drops the bytes of a multi-byte UTF-8 character that the cap cut in two, so the kept text ends on a whole character
 * instead of a U+FFFD.
 */
function withoutPartialCharacter(bytes: Buffer): Buffer {
  let start = bytes.length - 1
  while (start > 0 && start > bytes.length - 4 && (bytes[start]! & 0xc0) === 0x80) start--
  const lead = bytes[start]
  if (lead === undefined) return bytes
  const width = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1
  return bytes.length - start < width ? bytes.subarray(0, start) : bytes
}

/**
 * Reads `stream` to its end but keeps at most `maxBytes` of it: reading on past the cap means the child never blocks
 * on a full pipe, and keeping no more means a chatty command cannot fill the engine's memory. Decoded as UTF-8.
 */
export function collectCapped(stream: Readable, maxBytes: number): { read(): CappedText } {
  const chunks: Buffer[] = []
  let kept = 0
  let truncated = false
  stream.on('data', (chunk: Buffer) => {
    const room = maxBytes - kept
    if (chunk.length <= room) {
      chunks.push(chunk)
      kept += chunk.length
      return
    }
    truncated = true
    // A copy, so the kept part does not pin the whole chunk.
    if (room > 0) chunks.push(Buffer.from(chunk.subarray(0, room)))
    kept = maxBytes
  })
  // A read error ends the stream like EOF: what was read is kept, and the exit code tells how the command went.
  stream.on('error', () => {})
  return {
    read() {
      const bytes = Buffer.concat(chunks, kept)
      return { text: (truncated ? withoutPartialCharacter(bytes) : bytes).toString('utf8'), truncated }
    },
  }
}
