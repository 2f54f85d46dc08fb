/**
 * Chooses the backend: IndexedDB when asked for and usable, memory otherwise. If IndexedDB cannot
 * be opened, or later refuses a write (quota, eviction), the client switches to memory for the rest
 * of the page, keeps what it had, and reports it once through `onFallback`.
 *
 * @module
 */
import type { Backend, StoreName, WriteOp } from './backend.js'
import { STORE_NAMES } from './backend.js'
import { createIndexedDbBackend, openDatabase } from './indexeddb.js'
import { createMemoryBackend, createSessionStorageBackend } from './memory.js'

/** How long opening IndexedDB may take before the client gives up on it. */
const OPEN_TIMEOUT_MS = 5000

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`indexedDB.open did not answer within ${ms} ms`)), ms)
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e)),
    )
  })
}

function memoryFallback(): Backend {
  return createMemoryBackend(createSessionStorageBackend())
}

/** Copies the records under `prefix` from a failing backend into a new memory backend (best effort). */
async function rescue(from: Backend, prefix: string): Promise<Backend> {
  const to = memoryFallback()
  const ops: WriteOp[] = []
  for (const store of STORE_NAMES) {
    try {
      for (const key of await from.keys(store, prefix)) ops.push({ store, key, value: await from.get(store, key) })
    } catch {
      // unreadable as well: start that store empty
    }
  }
  await to.write(ops)
  return to
}

/**
 * Opens the storage for `mode`. The returned backend is usable at once: calls wait for the
 * database to open. `prefix` (the client's namespace) scopes what is rescued on a switch to memory.
 */
export function openStorage(
  mode: 'indexeddb' | 'memory',
  prefix: string,
  onFallback: (cause: unknown) => void,
): Backend {
  if (mode === 'memory') return memoryFallback()

  let kind: Backend['kind'] = 'indexeddb'
  let current: Promise<Backend> = withTimeout(openDatabase(), OPEN_TIMEOUT_MS).then(
    (db) => createIndexedDbBackend(Promise.resolve(db)),
    (cause: unknown) => {
      kind = 'memory'
      onFallback(cause)
      return memoryFallback()
    },
  )

  const run = async <T>(fn: (b: Backend) => Promise<T>): Promise<T> => fn(await current)

  return {
    get kind() {
      return kind
    },
    get: <T>(store: StoreName, key: string) => run((b) => b.get<T>(store, key)),
    keys: (store, p) => run((b) => b.keys(store, p)),
    take: <T>(store: StoreName, key: string) => run((b) => b.take<T>(store, key)),
    async write(ops) {
      const b = await current
      try {
        await b.write(ops)
      } catch (cause) {
        if (b.kind !== 'indexeddb') throw cause
        // IndexedDB refused the write (quota, eviction, closed): keep going in memory.
        const switched = rescue(b, prefix)
        current = switched
        kind = 'memory'
        onFallback(cause)
        await (await switched).write(ops)
      }
    },
  }
}
