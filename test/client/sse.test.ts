import { describe, expect, it } from 'vitest'
import { parseSse, type SseFrame } from '../../src/client/index.js'

/** The SSE parser on its own: line endings, chunk boundaries, comments, multi-line data. */

function streamOf(chunks: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(encoder.encode(chunk))
      controller.close()
    },
  })
}

async function frames(chunks: string[]): Promise<SseFrame[]> {
  const out: SseFrame[] = []
  for await (const frame of parseSse(streamOf(chunks))) out.push(frame)
  return out
}

describe('parseSse', () => {
  it('parses id, event and data, skipping comments', async () => {
    expect(await frames([': keep-alive\n\nid: 1\nevent: workflow_started\ndata: {"seq":1}\n\n'])).toEqual([
      { id: '1', event: 'workflow_started', data: '{"seq":1}' },
    ])
  })

  it('handles CRLF, CR, chunks split anywhere (inside a CRLF and inside a UTF-8 character)', async () => {
    const text = 'id: 7\r\nevent: task_completed\r\ndata: {"text":"héllo"}\r\n\r\nid: 8\revent: x\rdata: y\r\r'
    const bytes = new TextEncoder().encode(text)
    for (let cut = 1; cut < bytes.length; cut++) {
      // Split as bytes, so the cut may fall inside "é" or between \r and \n.
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(bytes.slice(0, cut))
          controller.enqueue(bytes.slice(cut))
          controller.close()
        },
      })
      const out: SseFrame[] = []
      for await (const frame of parseSse(stream)) out.push(frame)
      expect(out, `cut at byte ${cut}`).toEqual([
        { id: '7', event: 'task_completed', data: '{"text":"héllo"}' },
        { id: '8', event: 'x', data: 'y' },
      ])
    }
  })

  it('joins multi-line data and defaults the event to "message"; drops an unterminated last frame', async () => {
    expect(await frames(['data: a\ndata: b\n\n', 'data: unterminated\n'])).toEqual([{ event: 'message', data: 'a\nb' }])
  })
})
