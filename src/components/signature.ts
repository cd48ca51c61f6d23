import { createHmac, timingSafeEqual } from 'node:crypto'

/**
 * The signature of component calls and callbacks (API.md "The call"): `X-Harmonia-Timestamp: <unix seconds>` and
 * `X-Harmonia-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + raw body)>`. The timestamp is inside the
 * signed text, so a captured request cannot be replayed once it is older than the allowed skew.
 */
export const TIMESTAMP_HEADER = 'x-harmonia-timestamp'
export const SIGNATURE_HEADER = 'x-harmonia-signature'

/** How far a signed timestamp may be from the receiver's clock. */
export const MAX_SKEW_SECONDS = 300

/** The signature header value of `body` signed at `timestamp` (unix seconds). */
export function sign(secret: string, timestamp: number, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`
}

/** The two headers of a signed request. */
export function signatureHeaders(secret: string, body: string, nowMs: number): Record<string, string> {
  const timestamp = Math.floor(nowMs / 1000)
  return { 'X-Harmonia-Timestamp': String(timestamp), 'X-Harmonia-Signature': sign(secret, timestamp, body) }
}

export type SignatureCheck = { ok: true } | { ok: false; reason: string }

/**
 * Verifies a signed request: the timestamp must be a whole number of seconds within MAX_SKEW_SECONDS of `nowMs`, and
 * the signature must match, compared in constant time. The reason never echoes the secret or the expected value.
 */
export function verifySignature(
  secret: string,
  body: string,
  headers: { timestamp: string | undefined; signature: string | undefined },
  nowMs: number,
): SignatureCheck {
  const { timestamp, signature } = headers
  if (timestamp === undefined || signature === undefined) return { ok: false, reason: 'the request is not signed' }
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'X-Harmonia-Timestamp must be unix seconds' }
  if (Math.abs(nowMs / 1000 - Number(timestamp)) > MAX_SKEW_SECONDS) {
    return { ok: false, reason: `the signature timestamp is more than ${MAX_SKEW_SECONDS} s away from the server's clock` }
  }
  const expected = Buffer.from(sign(secret, Number(timestamp), body))
  const given = Buffer.from(signature.trim())
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'the signature does not match' }
  return { ok: true }
}
