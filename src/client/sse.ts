/** One server-sent event as the stream carries it (WHATWG "event stream interpretation"). */
export type SseFrame = { id?: string; event: string; data: string; retry?: number }

/**
 * Splits a byte stream into lines (`\n`, `\r\n` or a lone `\r`), decoding UTF-8 across chunk boundaries.
 * A `\r` at the end of a chunk is held back until the next chunk shows whether a `\n` follows.
 */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const reader = stream.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  try {
    for (;;) {
      const { done, value } = await reader.read()
      buffer += done ? decoder.decode() : decoder.decode(value, { stream: true })
      let start = 0
      for (let i = 0; i < buffer.length; i++) {
        const ch = buffer[i]
        if (ch !== '\n' && ch !== '\r') continue
        if (ch === '\r' && i === buffer.length - 1 && !done) break // wait: this may be the first half of \r\n
        yield buffer.slice(start, i)
        if (ch === '\r' && buffer[i + 1] === '\n') i++
        start = i + 1
      }
      buffer = buffer.slice(start)
      if (done) {
        // A last line without its terminator is not a complete field: the spec drops an unterminated event anyway.
        return
      }
    }
  } finally {
    // Reached on return() too (the consumer stopped reading): release the connection.
    await reader.cancel().catch(() => {})
  }
}

/**
 * Parses an event stream into frames. Comment lines (`:` keep-alives) are skipped; a frame is dispatched at a blank
 * line when it has data. `id` persists across frames as the spec's "last event ID" does.
 */
export async function* parseSse(stream: ReadableStream<Uint8Array>): AsyncGenerator<SseFrame> {
  let event = ''
  let data: string[] = []
  let id: string | undefined
  let retry: number | undefined
  for await (const line of readLines(stream)) {
    if (line === '') {
      if (data.length > 0) {
        yield {
          event: event || 'message',
          data: data.join('\n'),
          ...(id !== undefined ? { id } : {}),
          ...(retry !== undefined ? { retry } : {}),
        }
      }
      event = ''
      data = []
      retry = undefined
      continue
    }
    if (line.startsWith(':')) continue
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    switch (field) {
      case 'event':
        event = value
        break
      case 'data':
        data.push(value)
        break
      case 'id':
        if (!value.includes('\0')) id = value
        break
      case 'retry':
        if (/^\d+$/.test(value)) retry = Number(value)
        break
      default:
        break
    }
  }
}
