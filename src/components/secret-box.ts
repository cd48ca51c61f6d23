import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

/**
 * Component secrets at rest (API.md "Roles, audit and limits"): AES-256-GCM under a 32-byte key. A sealed secret is
 * `v1:<base64 of iv (12 bytes) ‖ tag (16 bytes) ‖ ciphertext>`; the tag makes a wrong key or a changed value fail
 * to open instead of yielding garbage.
 */
const PREFIX = 'v1:'

export type SecretBox = {
  seal(plain: string): string
  /** The plain secret; throws when the key is not the one it was sealed with. */
  open(sealed: string): string
}

/** A key from its base64 form (HARMONIA_SECRET_KEY): exactly 32 bytes, or an error naming the variable. */
export function parseSecretKey(raw: string, name = 'HARMONIA_SECRET_KEY'): Buffer {
  const key = Buffer.from(raw.trim(), 'base64')
  if (key.length !== 32)
    throw new Error(`${name} must be 32 bytes in base64 (44 characters), such as the output of: openssl rand -base64 32`)
  return key
}

/** A new random key, in base64. */
export const generateSecretKey = (): string => randomBytes(32).toString('base64')

export const isSealed = (value: string): boolean => value.startsWith(PREFIX)

export function createSecretBox(key: Buffer): SecretBox {
  return {
    seal(plain) {
      const iv = randomBytes(12)
      const cipher = createCipheriv('aes-256-gcm', key, iv)
      const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()])
      return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')
    },
    open(sealed) {
      if (!isSealed(sealed)) throw new Error('the stored secret is not sealed')
      const bytes = Buffer.from(sealed.slice(PREFIX.length), 'base64')
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12))
      decipher.setAuthTag(bytes.subarray(12, 28))
      return Buffer.concat([decipher.update(bytes.subarray(28)), decipher.final()]).toString('utf8')
    },
  }
}
