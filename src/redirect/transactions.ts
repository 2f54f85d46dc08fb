/**
 * Login transactions: state, nonce, PKCE verifier and where to return, kept per `state` (so logins
 * in two tabs do not clobber each other), single-use, expiring after 10 minutes. A completed
 * transaction leaves a marker so that a replayed callback is told apart from a forged one.
 * Never holds a token.
 *
 * @module
 */
import type { Backend } from '../store/backend.js'
import { isCurrent, RECORD_VERSION } from '../store/records.js'
import { createStateIndex } from './state-index.js'

/** How long a started login may take. */
export const TRANSACTION_LIFETIME_MS = 10 * 60 * 1000
/** How long a taken transaction's marker is kept (for `callback_already_handled`). */
export const TAKEN_MARKER_LIFETIME_MS = 24 * 60 * 60 * 1000

/** A pending login. */
export interface Transaction {
  v: typeof RECORD_VERSION
  state: string
  nonce: string | undefined
  codeVerifier: string
  redirectUri: string
  scope: string
  resources: string[]
  returnTo: string
  createdAt: number
  expiresAt: number
  /** The DPoP key thumbprint sent as `dpop_jkt`, when DPoP is on. */
  dpopJkt: string | undefined
  /** The `max_age` sent (through `extraParams`), in seconds. */
  maxAge?: number | undefined
  /** The app's `login({ appState })`: plain JSON-compatible data, never a token, never in a URL. */
  appState?: unknown
  /** The `acr_values` sent: the ID token's `acr` must be one of them. */
  acrValues?: string[] | undefined
  /**
   * The provider's metadata as discovered when the sign-in started (public, no secret): the callback
   * page uses it instead of a discovery request of its own, so the code is redeemed one round trip sooner.
   */
  metadata?: unknown
}

/**
 * Left where a callback took the transaction, in the same step: a second callback of the same
 * state (a replay, or the same URL in another tab at that moment) is then told apart from a forged
 * one. A failed sign-in removes it.
 */
interface TakenMarker {
  v: typeof RECORD_VERSION
  takenAt: number
  expiresAt: number
}

/** The transaction store of one client namespace. */
export interface TransactionStore {
  put(txn: Transaction): Promise<void>
  /** Reads and deletes the transaction of `state` in one step, leaving the marker of a taken one. */
  take(state: string): Promise<Transaction | undefined>
  /** Removes the marker of a taken transaction whose sign-in failed (a replay is then unknown). */
  release(state: string): Promise<void>
  /** Deletes a pending transaction that will never be used (its login did not navigate). */
  discard(state: string): Promise<void>
  /** Whether a transaction of `state` is pending (without taking it). */
  has(state: string): Promise<boolean>
  /**
   * The sign-in of a taken transaction is stored: no tab has it pending any more. The marker stays,
   * except where nothing may outlive the page (memory storage): a replay is then `invalid_state`.
   */
  completed(state: string): Promise<void>
  /** Whether a callback took the transaction of `state` (and completed it, or is completing it). */
  wasTaken(state: string): Promise<boolean>
  /** Deletes expired transactions and markers. */
  purge(now?: number): Promise<void>
  /**
   * Whether `state` is a pending sign-in of this client (in any tab, until its callback completes
   * or fails). Synchronous; `undefined` when the browser gives no web storage to look in.
   */
  knows(state: string): boolean | undefined
}

/** Creates the transaction store of `namespace` on `backend`'s `transactions` store. */
export function createTransactionStore(backend: Backend, namespace: string): TransactionStore {
  const pending = (state: string) => `${namespace}|txn|${state}`
  const done = (state: string) => `${namespace}|done|${state}`
  const index = createStateIndex(namespace)
  return {
    async put(txn) {
      await backend.write([{ store: 'transactions', key: pending(txn.state), value: txn }])
      index.pending(txn.state, txn.expiresAt)
    },
    async take(state) {
      const now = Date.now()
      const marker: TakenMarker = { v: RECORD_VERSION, takenAt: now, expiresAt: now + TAKEN_MARKER_LIFETIME_MS }
      const value = await backend.take<unknown>('transactions', pending(state), { key: done(state), value: marker })
      return isCurrent<Transaction>(value) ? value : undefined
    },
    async release(state) {
      index.settled(state)
      await backend.write([{ store: 'transactions', key: done(state) }])
    },
    knows: (state) => index.knows(state),
    async discard(state) {
      index.settled(state)
      await backend.write([{ store: 'transactions', key: pending(state) }])
    },
    has: async (state) => isCurrent(await backend.get<unknown>('transactions', pending(state))),
    async completed(state) {
      index.settled(state)
      // Where nothing may outlive the page (storage: 'memory', or IndexedDB unusable: the marker
      // would sit in sessionStorage), the marker goes too.
      if (backend.kind === 'memory') await backend.write([{ store: 'transactions', key: done(state) }])
    },
    async wasTaken(state) {
      const marker = await backend.get<unknown>('transactions', done(state))
      return isCurrent<TakenMarker>(marker) && marker.expiresAt > Date.now()
    },
    async purge(now = Date.now()) {
      const stale: string[] = []
      for (const [key, value] of await backend.entries('transactions', `${namespace}|`)) {
        const expiresAt = (value as { expiresAt?: unknown } | undefined)?.expiresAt
        if (!isCurrent(value) || typeof expiresAt !== 'number' || expiresAt <= now) stale.push(key)
      }
      if (stale.length > 0) await backend.write(stale.map((key) => ({ store: 'transactions' as const, key })))
    },
  }
}
