/** Reading a response of the `http` built-in: the body under a size cap, decoded by its content type; the headers. */

/** The bytes of `stream`, or undefined as soon as they pass `limit` (the caller then closes the connection). */
export async function readCapped(stream: ReadableStream<Uint8Array> | null, limit: number): Promise<Uint8Array | undefined> {
  if (stream === null) return new Uint8Array()
  const chunks: Uint8Array[] = []
  let size = 0
  // Chunk by chunk rather than response.arrayBuffer(), which would hold any size in memory before we could refuse it.
  for await (const chunk of stream) {
    size += chunk.byteLength
    if (size > limit) return undefined
    chunks.push(chunk)
  }
  return Buffer.concat(chunks, size)
}

/** `application/json` and the `+json` types (`application/problem+json`, …), whatever their parameters. */
export function isJsonType(contentType: string | null): boolean {
  const essence = contentType?.split(';')[0]?.trim().toLowerCase() ?? ''
  return essence === 'application/json' || (essence.startsWith('application/') && essence.endsWith('+json'))
}

/** The decoder of the response's charset; UTF-8 when it names none or one TextDecoder does not know (the likeliest guess). */
function decoderFor(contentType: string | null) {
  const charset = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '')?.[1]
  try {
    return new TextDecoder(charset ?? 'utf-8')
  } catch {
    return new TextDecoder('utf-8')
  }
}

/** The body as the task output holds it: parsed JSON for a JSON type, else text (also JSON that does not parse). */
export function decodeBody(bytes: Uint8Array, contentType: string | null): unknown {
  const text = decoderFor(contentType).decode(bytes)
  if (!isJsonType(contentType)) return text
  try {
    return JSON.parse(text) as unknown
  } catch {
    return text
  }
}

/**
 * The headers as a plain object with lowercase names. `set-cookie` is a list, as in node:http, because its values
 * cannot be joined with commas (cookie dates hold commas); every other repeated header arrives joined by fetch.
 */
export function headersOf(headers: Headers): Record<string, string | string[]> {
  // Object.fromEntries defines own properties, so a header named `__proto__` stays data.
  const out: Record<string, string | string[]> = Object.fromEntries([...headers].filter(([name]) => name !== 'set-cookie'))
  const cookies = headers.getSetCookie()
  if (cookies.length > 0) out['set-cookie'] = cookies
  return out
}
