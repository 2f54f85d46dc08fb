/**
 * A synchronous index of the `state` values of one client's pending sign-ins, so that
 * `isRedirectCallback` can tell a callback of a pending sign-in from any other URL without waiting
 * for IndexedDB. It lives in localStorage, since the callback may come back in another tab of the
 * origin, and only while a sign-in is pending: from `login()` until its callback completes or
 * fails (at most the transaction's 10 minutes). A state is no secret (it travels in the URL) and no
 * token is kept here. Where web storage is unusable the index knows nothing, and the URL's shape
 * decides.
 *
 * @module
 */
import { withWebStorage } from '../store/web-storage.js'

/** The index of one client namespace. */
export interface StateIndex {
  /** Records a pending sign-in's state until `expiresAt`, and drops expired ones. */
  pending(state: string, expiresAt: number): void
  /** The sign-in of `state` completed or failed: it is no longer pending anywhere. */
  settled(state: string): void
  /** Whether `state` is pending; `undefined` when localStorage is unusable. */
  knows(state: string): boolean | undefined
}

/** Creates the index of `namespace`. */
export function createStateIndex(namespace: string): StateIndex {
  const prefix = `oauth-spa:${namespace}:pending:`
  return {
    pending(state, expiresAt) {
      withWebStorage('localStorage', (local) => {
        const now = Date.now()
        for (let i = local.length - 1; i >= 0; i--) {
          const key = local.key(i)
          if (key?.startsWith(prefix) && !(Number(local.getItem(key)) > now)) local.removeItem(key)
        }
        local.setItem(prefix + state, String(expiresAt))
      })
    },
    settled(state) {
      withWebStorage('localStorage', (local) => local.removeItem(prefix + state))
    },
    knows(state) {
      return withWebStorage('localStorage', (local) => Number(local.getItem(prefix + state)) > Date.now())
    },
  }
}
