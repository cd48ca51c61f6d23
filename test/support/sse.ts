import type { ExecutionEvent } from '../../src/model/events.js'

/** Reads SSE frames from a fetch response until `stop` or the end of the stream. */
export async function readSse(
  response: Response,
  onEvent: (e: { id: string; event: string; data: ExecutionEvent }) => boolean | void,
): Promise<'ended' | 'stopped'> {
  const reader = response.body!.getReader()
  const decoder = new TextDecoder()
  let buffer = ''
  for (;;) {
    const { value, done } = await reader.read()
    if (done) return 'ended'
    buffer += decoder.decode(value, { stream: true })
    let cut: number
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      const frame = buffer.slice(0, cut)
      buffer = buffer.slice(cut + 2)
      const fields: Record<string, string> = {}
      for (const line of frame.split('\n')) {
        if (line.startsWith(':')) continue
        const at = line.indexOf(':')
        if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1).trimStart()
      }
      if (fields.data === undefined) continue
      if (onEvent({ id: fields.id!, event: fields.event!, data: JSON.parse(fields.data) as ExecutionEvent }) === true) {
        await reader.cancel()
        return 'stopped'
      }
    }
  }
}
