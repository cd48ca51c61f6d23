import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createSecretBox, generateSecretKey, parseSecretKey, type SecretBox } from '../components/secret-box.js'
import type { Store } from '../db/store.js'

/** Where a component secret key is kept, and the box it opens. */
export type SecretKeyring = { box: SecretBox | undefined; source: 'option' | 'env' | 'file' | 'ephemeral' | 'none'; file?: string }

/**
 * The key component secrets are sealed with: `secretKey` (createHarmonia), else HARMONIA_SECRET_KEY, else on PGlite a
 * key generated into the data folder on first start (`secret.key`, readable by the owner only), else for an in-memory
 * store a key of this process. On Postgres without a key there is none: registering a secret is refused, and a start
 * that finds stored secrets stops.
 */
export function resolveSecretKey(explicit: string | undefined, store: Store): SecretKeyring {
  if (explicit !== undefined) return { box: createSecretBox(parseSecretKey(explicit, 'secretKey')), source: 'option' }
  const env = process.env.HARMONIA_SECRET_KEY
  if (env) return { box: createSecretBox(parseSecretKey(env)), source: 'env' }
  if (store.kind === 'memory' || store.location === 'memory://')
    return { box: createSecretBox(parseSecretKey(generateSecretKey())), source: 'ephemeral' }
  if (store.kind === 'pglite' && store.location) {
    const file = join(store.location, 'secret.key')
    if (!existsSync(file)) writeFileSync(file, `${generateSecretKey()}\n`, { mode: 0o600 })
    return { box: createSecretBox(parseSecretKey(readFileSync(file, 'utf8'), file)), source: 'file', file }
  }
  return { box: undefined, source: 'none' }
}

/** After a rotation: a key kept in the data folder is replaced by the new one (an explicit key is the operator's to change). */
export function storeRotatedKey(keyring: SecretKeyring, key: string): void {
  if (keyring.source === 'file' && keyring.file) writeFileSync(keyring.file, `${key}\n`, { mode: 0o600 })
}
