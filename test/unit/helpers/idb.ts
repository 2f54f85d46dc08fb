/**
 * Reads the SDK's IndexedDB database directly (as an attacker or a test would), to assert what
 * is and is not stored.
 */
const DB = 'oauth-spa'

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const r = indexedDB.open(DB)
    r.onsuccess = () => resolve(r.result)
    r.onerror = () => reject(r.error)
  })
}

/** Every record of the stores given whose key contains `clientId`, as `{ 'store/key': value }`. */
export async function dumpNamespace(clientId: string, stores: string[]): Promise<Record<string, unknown>> {
  const db = await open()
  const out: Record<string, unknown> = {}
  try {
    for (const name of stores) {
      if (!db.objectStoreNames.contains(name)) continue
      const tx = db.transaction(name, 'readonly')
      const os = tx.objectStore(name)
      const keys = await new Promise<IDBValidKey[]>((resolve, reject) => {
        const r = os.getAllKeys()
        r.onsuccess = () => resolve(r.result)
        r.onerror = () => reject(r.error)
      })
      for (const key of keys) {
        if (typeof key !== 'string' || !key.includes(`|${clientId}`)) continue
        out[`${name}/${key}`] = await new Promise((resolve, reject) => {
          const r = os.get(key)
          r.onsuccess = () => resolve(r.result)
          r.onerror = () => reject(r.error)
        })
      }
    }
  } finally {
    db.close()
  }
  return out
}

/** Writes a raw record (for tests of corrupt or foreign-version records). */
export async function putRaw(store: string, key: string, value: unknown): Promise<void> {
  const db = await open()
  try {
    await new Promise<void>((resolve, reject) => {
      const tx = db.transaction(store, 'readwrite')
      tx.objectStore(store).put(value, key)
      tx.oncomplete = () => resolve()
      tx.onerror = () => reject(tx.error)
    })
  } finally {
    db.close()
  }
}
