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

/** The memory backend (loaded on first need: most pages never fall back to it). */
async function memoryFallback(): Promise<Backend> {
  const { createMemoryBackend, createSessionStorageBackend } = await import('./memory.js')
  return createMemoryBackend(createSessionStorageBackend())
}

/**
 * Copies the records of `namespace` (keyed `namespace` or `namespace|…`) from a failing backend
 * into a new memory backend, then deletes them there (best effort): records that can no longer be
 * kept current, such as a refresh token rotated only in memory, would be replayed by a reload or
 * another tab and revoke the grant.
 */
async function rescue(from: Backend, namespace: string): Promise<Backend> {
  const to = await memoryFallback()
  const ops: WriteOp[] = []
  for (const store of STORE_NAMES) {
    try {
      for (const [key, value] of await from.entries(store, namespace)) {
        if (key === namespace || key.startsWith(`${namespace}|`)) ops.push({ store, key, value })
      }
    } catch {
      // unreadable as well: start that store empty
    }
  }
  await to.write(ops)
  await from.write(ops.map(({ store, key }) => ({ store, key }))).catch(() => undefined)
  return to
}

/**
 * Opens the storage for `mode`. The returned backend is usable at once: calls wait for the
 * database to open. `namespace` (the client's) scopes what is rescued on a switch to memory.
 * When the database goes away under the page (site data cleared, deleted or upgraded by another
 * tab), it is opened again and `onLost` tells the session to re-read what is left.
 */
export function openStorage(
  mode: 'indexeddb' | 'memory',
  namespace: string,
  onFallback: (cause: unknown) => void,
  onLost: () => void = () => {},
): Backend {
  let kind: Backend['kind'] = mode
  /**
   * Resolves when the open in progress found no database and is creating it (a first visit, or
   * site data cleared): until it completes, reads answer "nothing" at once instead of waiting for
   * the creation (40-160 ms on a loaded machine). That answer is true when it is given, for every
   * store but `transactions`: the new database is empty, the version change transaction that
   * creates it keeps every other tab out, and a memory fallback (should the creation fail) starts
   * empty too, except for the transactions it keeps in sessionStorage. `undefined` once the open has
   * completed, or once this page writes (a read then waits, and sees the write).
   */
  let created: Promise<void> | undefined
  /** Opens the database; a reopen (`retries`) tries again while the browser is still clearing it. */
  const open = (retries: number, onCreate: () => void): Promise<Backend> =>
    withTimeout(
      openDatabase(() => {
        current = start(3)
        onLost()
      }, onCreate),
      OPEN_TIMEOUT_MS,
    ).then(
      (db) => createIndexedDbBackend(Promise.resolve(db)),
      async (cause: unknown) => {
        if (retries > 0) {
          await new Promise((r) => setTimeout(r, 100))
          return open(retries - 1, onCreate)
        }
        kind = 'memory'
        onFallback(cause)
        return memoryFallback()
      },
    )
  /** Starts an open, with its {@link created} signal. */
  const start = (retries: number): Promise<Backend> => {
    let onCreate = () => {}
    const signal = new Promise<void>((resolve) => (onCreate = resolve))
    const opened = open(retries, onCreate)
    created = signal
    void opened.then(() => {
      if (created === signal) created = undefined
    })
    return opened
  }
  let current = mode === 'memory' ? memoryFallback() : start(0)

  const run = async <T>(fn: (b: Backend) => Promise<T>): Promise<T> => fn(await current)
  /** A read: answered `none` at once while the database is being created (see {@link created}). */
  const read = <T>(store: StoreName, fn: (b: Backend) => Promise<T>, none: T): Promise<T> => {
    if (created === undefined || store === 'transactions') return run(fn)
    // `current` first: when both have settled, the open wins (a read after the open reads the database).
    const NONE = {}
    return Promise.race([current, created.then(() => NONE)]).then((b) => (b === NONE ? none : fn(b as Backend)))
  }

  return {
    get kind() {
      return kind
    },
    get: <T>(store: StoreName, key: string) => read<T | undefined>(store, (b) => b.get<T>(store, key), undefined),
    entries: (store, p) => read(store, (b) => b.entries(store, p), []),
    take: <T>(store: StoreName, key: string, leave?: { key: string; value: unknown }) => run((b) => b.take<T>(store, key, leave)),
    async write(ops) {
      created = undefined
      const started = current
      const b = await started
      try {
        await b.write(ops)
      } catch (cause) {
        // The database went away during the write (and was opened again): that is not a reason
        // to leave IndexedDB, and what was cleared must not be written back.
        if (b.kind !== 'indexeddb' || current !== started) throw cause
        // Deletes that fail (a wipe) are not saved by memory: the records would stay in IndexedDB,
        // readable by other tabs and after a reload. The caller must know the wipe failed.
        if (ops.every((op) => op.value === undefined)) throw cause
        // IndexedDB refused the write (quota, eviction, closed): keep going in memory.
        const switched = rescue(b, namespace)
        current = switched
        kind = 'memory'
        onFallback(cause)
        await (await switched).write(ops)
      }
    },
  }
}
