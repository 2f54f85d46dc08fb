/**
 * In-memory backend: `storage: 'memory'`, and the fallback when IndexedDB cannot be used.
 *
 * @module
 */
import type { Backend, StoreName, WriteOp } from './backend.js'

/**
 * A backend on `Map`s. `transactions` may be given a separate backend (sessionStorage) so that a
 * sign-in survives its redirect even though no token is persisted.
 */
export function createMemoryBackend(transactions?: Backend): Backend {
  const maps = new Map<StoreName, Map<string, unknown>>()
  const map = (store: StoreName): Map<string, unknown> => {
    let m = maps.get(store)
    if (!m) maps.set(store, (m = new Map()))
    return m
  }
  const delegate = (store: StoreName): Backend | undefined => (store === 'transactions' ? transactions : undefined)

  return {
    kind: 'memory',
    async get<T>(store: StoreName, key: string) {
      const d = delegate(store)
      return d ? d.get<T>(store, key) : (map(store).get(key) as T | undefined)
    },
    async entries(store, prefix) {
      const d = delegate(store)
      if (d) return d.entries(store, prefix)
      return [...map(store)].filter(([k]) => k.startsWith(prefix))
    },
    async write(ops: readonly WriteOp[]) {
      const delegated = ops.filter((op) => delegate(op.store))
      if (delegated.length > 0) await transactions!.write(delegated)
      for (const op of ops) {
        if (delegate(op.store)) continue
        if (op.prefix) for (const key of [...map(op.store).keys()]) key.startsWith(op.key) && map(op.store).delete(key)
        else if (op.value === undefined) map(op.store).delete(op.key)
        else map(op.store).set(op.key, op.value)
      }
    },
    async take<T>(store: StoreName, key: string, leave?: { key: string; value: unknown }) {
      const d = delegate(store)
      if (d) return d.take<T>(store, key, leave)
      const value = map(store).get(key) as T | undefined
      map(store).delete(key)
      if (value !== undefined && leave) map(store).set(leave.key, leave.value)
      return value
    },
  }
}

/**
 * A backend for the `transactions` store on `sessionStorage` (state, nonce and PKCE verifier: never a
 * token). Returns `undefined` where sessionStorage is unusable.
 */
export function createSessionStorageBackend(): Backend | undefined {
  let storage: Storage
  try {
    storage = globalThis.sessionStorage
    const probe = 'oauth-spa:probe'
    storage.setItem(probe, '1')
    storage.removeItem(probe)
  } catch {
    return undefined
  }
  const prefix = 'oauth-spa:'
  const read = <T>(key: string): T | undefined => {
    const raw = storage.getItem(prefix + key)
    if (raw === null) return undefined
    try {
      return JSON.parse(raw) as T
    } catch {
      return undefined
    }
  }
  const keysOf = (keyPrefix: string): string[] => {
    const out: string[] = []
    for (let i = 0; i < storage.length; i++) {
      const k = storage.key(i)
      if (k !== null && k.startsWith(prefix + keyPrefix)) out.push(k.slice(prefix.length))
    }
    return out
  }
  return {
    kind: 'memory',
    async get<T>(_store: StoreName, key: string) {
      return read<T>(key)
    },
    entries: async (_store, keyPrefix) => keysOf(keyPrefix).map((k): [string, unknown] => [k, read(k)]),
    async write(ops) {
      for (const op of ops) {
        if (op.prefix) {
          for (const key of keysOf(op.key)) storage.removeItem(prefix + key)
        } else if (op.value === undefined) storage.removeItem(prefix + op.key)
        else storage.setItem(prefix + op.key, JSON.stringify(op.value))
      }
    },
    async take<T>(_store: StoreName, key: string, leave?: { key: string; value: unknown }) {
      const value = read<T>(key)
      storage.removeItem(prefix + key)
      if (value !== undefined && leave) storage.setItem(prefix + leave.key, JSON.stringify(leave.value))
      return value
    },
  }
}
