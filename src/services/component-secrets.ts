import { createSecretBox, parseSecretKey } from '../components/secret-box.js'
import type { Store } from '../db/store.js'
import { ValidationError } from '../errors.js'
import type { RemoteComponentRecord } from '../model/components.js'
import { storeRotatedKey, type SecretKeyring } from './secret-key.js'

/** Component secrets as the store holds them: sealed with the keyring's key (AES-256-GCM), opened at start. */
export function createComponentSecrets(keyring: SecretKeyring) {
  /** A stored record's secret, opened; a start with no key or the wrong one stops with what to do. */
  function unseal(record: RemoteComponentRecord): RemoteComponentRecord {
    if (record.secret === null) return record
    if (!keyring.box) throw new Error(`component ${record.name} has a stored secret: set HARMONIA_SECRET_KEY to the key it was stored with`)
    try {
      return { ...record, secret: keyring.box.open(record.secret) }
    } catch {
      throw new Error(
        `HARMONIA_SECRET_KEY does not open the stored secret of component ${record.name}: it is not the key the secrets were stored with (change keys with: harmonia secrets rotate --from OLD --to NEW)`,
      )
    }
  }

  return {
    /** A secret as stored; without a key a secret cannot be stored (422 naming `secret`). */
    seal(secret: string | null): string | null {
      if (secret === null) return null
      if (!keyring.box) {
        const message = 'a component secret is stored encrypted: set HARMONIA_SECRET_KEY (32 bytes in base64) on this server first'
        throw new ValidationError([{ path: 'secret', message }])
      }
      return keyring.box.seal(secret)
    },
    unseal,
    /** Seals every stored secret again under `key` (base64); from then on it is the key. Returns how many. */
    async rotate(store: Store, key: string): Promise<number> {
      const next = createSecretBox(parseSecretKey(key))
      let count = 0
      for (const stored of await store.components.list()) {
        if (stored.secret === null) continue
        await store.components.put({ ...stored, secret: next.seal(unseal(stored).secret!) })
        count++
      }
      keyring.box = next
      storeRotatedKey(keyring, key)
      return count
    },
  }
}
