// A remote component for Harmonia in plain Node (node:http, node:crypto): API.md "The call". PORT (default 8030), HOST
// (default 127.0.0.1), PROMETHEUS_SECRET (when set, every call must carry a valid X-Harmonia-Signature).
import { Buffer } from 'node:buffer'
import { createHmac, timingSafeEqual } from 'node:crypto'
import { createServer } from 'node:http'
import process from 'node:process'

const { PORT = '8030', HOST = '127.0.0.1', PROMETHEUS_SECRET: secret } = process.env

/** sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>, made within the last 300 s. */
function signed(headers, raw) {
  if (!secret) return true
  const timestamp = String(headers['x-harmonia-timestamp'] ?? '')
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) return false
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(raw).digest('hex')}`)
  const given = Buffer.from(String(headers['x-harmonia-signature'] ?? ''))
  return given.length === expected.length && timingSafeEqual(given, expected)
}

const server = createServer((req, res) => {
  const send = (status, body) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body))
  const chunks = []
  req.on('data', (chunk) => chunks.push(chunk))
  req.on('end', () => {
    const raw = Buffer.concat(chunks)
    if (req.method === 'GET' && req.url === '/health') return send(200, { status: 'healthy' })
    const action = /^\/api\/actions\/([^/?]+)$/.exec(req.url ?? '')?.[1]
    if (req.method !== 'POST' || action === undefined) return send(404, { error: { message: 'not found' } })
    if (!signed(req.headers, raw)) return send(401, { error: { message: 'bad signature' } })
    if (action !== 'analyze_results') return send(404, { error: { message: `unknown action ${action}` } })
    let params
    try {
      params = JSON.parse(raw.toString('utf8')).params ?? {}
    } catch {
      return send(400, { error: { message: 'the body must be JSON' } })
    }
    const text = typeof params.data === 'string' ? params.data : JSON.stringify(params.data ?? '')
    const words = text.split(/\s+/).filter(Boolean).length
    send(200, { output: { analysis: `${words} word${words === 1 ? '' : 's'}`, received: params.data, length: text.length } })
  })
})
server.listen(Number(PORT), HOST, () => process.stdout.write(`prometheus component listening on http://${HOST}:${server.address().port}\n`))
