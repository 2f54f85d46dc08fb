/**
 * Best-effort access to localStorage or sessionStorage for the few small values the SDK keeps
 * there (never a token): where the storage is missing (a server) or refuses access (a sandboxed
 * frame, a full quota), the caller gets `undefined` instead of an exception.
 *
 * @module
 */

/** Runs `fn` on the named web storage; `undefined` when it is missing or throws. */
export function withWebStorage<T>(name: 'localStorage' | 'sessionStorage', fn: (storage: Storage) => T): T | undefined {
  try {
    const storage = globalThis[name]
    return storage ? fn(storage) : undefined
  } catch {
    return undefined
  }
}
