/**
 * IndexedDB backend: one database `oauth-spa`, one object store per secret kind, read and written
 * through idb-keyval. Multi-store batches run in one IndexedDB transaction, so they are atomic.
 *
 * @module
 */
import { get, promisifyRequest, type UseStore } from 'idb-keyval'
import { STORE_NAMES, type Backend, type StoreName } from './backend.js'

/** Name of the IndexedDB database. */
export const DB_NAME = 'oauth-spa'

function missingStores(db: IDBDatabase): StoreName[] {
  return STORE_NAMES.filter((name) => !db.objectStoreNames.contains(name))
}

function openOnce(version: number | undefined, onCreate: () => void): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const request = version === undefined ? indexedDB.open(DB_NAME) : indexedDB.open(DB_NAME, version)
    request.onupgradeneeded = (event) => {
      if (event.oldVersion === 0) onCreate()
      const db = request.result
      for (const name of missingStores(db)) db.createObjectStore(name)
    }
    request.onsuccess = () => resolve(request.result)
    request.onerror = () => reject(request.error ?? new Error('indexedDB.open failed'))
    request.onblocked = () => reject(new Error('indexedDB.open is blocked by another tab'))
  })
}

/**
 * Opens the database at whatever version it has (so a database written by a newer SDK still
 * opens) and adds missing object stores with a version bump. `onLost` is called when the
 * connection goes away later: the browser closed it (site data cleared), or another tab deletes
 * or upgrades the database (this connection then closes itself so as not to block it).
 * `onCreate` is called, before the open completes, when there was no database: this open creates
 * it, so it holds nothing yet (its version change transaction keeps every other tab out until then).
 */
export async function openDatabase(onLost: () => void = () => {}, onCreate: () => void = () => {}): Promise<IDBDatabase> {
  if (typeof indexedDB === 'undefined' || indexedDB === null) throw new Error('IndexedDB is not available')
  let db = await openOnce(undefined, onCreate)
  if (missingStores(db).length > 0) {
    const next = db.version + 1
    db.close()
    db = await openOnce(next, onCreate)
  }
  db.onversionchange = () => {
    db.close()
    onLost()
  }
  db.onclose = onLost
  return db
}

/** The string keys that start with `prefix` (non-empty): from `prefix` up to, not including, the next prefix of its length. */
function prefixRange(prefix: string): IDBKeyRange {
  const next = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)
  return IDBKeyRange.bound(prefix, next, false, true)
}

/** A backend on an open database. */
export function createIndexedDbBackend(dbp: Promise<IDBDatabase>): Backend {
  const use =
    (store: StoreName): UseStore =>
    (txMode, callback) =>
      dbp.then((db) => callback(db.transaction(store, txMode).objectStore(store)))

  return {
    kind: 'indexeddb',
    get: <T>(store: StoreName, key: string) => get<T>(key, use(store)),
    entries: (store, prefix) =>
      use(store)('readonly', (os) => {
        const range = prefixRange(prefix)
        return Promise.all([promisifyRequest(os.getAllKeys(range)), promisifyRequest(os.getAll(range))]).then(([ks, vs]) =>
          ks.map((k, i): [string, unknown] => [String(k), vs[i]]),
        )
      }),
    async write(ops) {
      if (ops.length === 0) return
      const db = await dbp
      const stores = [...new Set(ops.map((op) => op.store))]
      const tx = db.transaction(stores, 'readwrite')
      try {
        for (const op of ops) {
          const os = tx.objectStore(op.store)
          if (op.prefix) os.delete(prefixRange(op.key))
          else if (op.value === undefined) os.delete(op.key)
          else os.put(op.value, op.key)
        }
      } catch (e) {
        // A synchronous throw (DataCloneError, a quota check) would otherwise commit what was queued before it.
        tx.abort()
        throw e
      }
      await promisifyRequest(tx)
    },
    take: <T>(store: StoreName, key: string, leave?: { key: string; value: unknown }) =>
      use(store)('readwrite', (os) => {
        const request = os.get(key) as IDBRequest<T | undefined>
        // In the success handler the transaction is still active: the delete and the put join it.
        request.onsuccess = () => {
          if (request.result === undefined) return
          os.delete(key)
          if (leave) os.put(leave.value, leave.key)
        }
        return promisifyRequest(os.transaction).then(() => request.result)
      }),
  }
}
