/**
 * The immutable snapshot `{ status, user?, error? }` and its subscribers, shaped for React's
 * `useSyncExternalStore`: `get()` returns the same object until something changes.
 *
 * @module
 */
import { checkListener } from './events.js'
import type { AuthSnapshot } from '../types.js'

/** The snapshot store. */
export interface SnapshotStore {
  get(): AuthSnapshot
  set(next: AuthSnapshot): void
  subscribe(listener: () => void): () => void
}

const same = (a: AuthSnapshot, b: AuthSnapshot) => a.status === b.status && a.user === b.user && a.error === b.error

/** Creates a snapshot store, starting at `loading`. */
export function createSnapshotStore(): SnapshotStore {
  let current: AuthSnapshot = Object.freeze({ status: 'loading' })
  const listeners = new Set<() => void>()
  return {
    get: () => current,
    set(next) {
      if (same(current, next)) return
      current = Object.freeze({ ...next })
      for (const listener of [...listeners]) {
        try {
          listener()
        } catch (e) {
          queueMicrotask(() => {
            throw e
          })
        }
      }
    },
    subscribe(listener) {
      listeners.add(checkListener(listener, 'subscribe'))
      return () => void listeners.delete(listener)
    },
  }
}
