/**
 * The session's states, the events that move it, and the one table that says what each event does
 * in each state. The table is data: the session runs the effects it names, the refresh coordinator
 * and the cross-tab sync only send events and learn whether they were accepted (an ignored
 * `refreshAnswer`, for example, means the session ended while the refresh ran: nothing is written).
 *
 * @module
 */

/**
 * - `loading`: the stored session is being read.
 * - `signedOut`: no session, and nothing left in the store that could be mistaken for one.
 * - `signedIn`: a session; tokens are served.
 * - `refreshing`: this tab holds the refresh lock and a refresh grant is on its way.
 * - `renewing`: the refresh token is missing or refused; a silent renewal runs (under the same lock).
 * - `signingOut`: `logout()` of this page is waiting for the lock or wiping the store.
 * - `ended`: the session ended but the store could not be wiped: nothing is read from it until a
 *   wipe succeeds or a sign-in replaces it.
 */
export type SessionState = 'loading' | 'signedOut' | 'signedIn' | 'refreshing' | 'renewing' | 'signingOut' | 'ended'

/** Every state, in table order. */
export const STATES: readonly SessionState[] = ['loading', 'signedOut', 'signedIn', 'refreshing', 'renewing', 'signingOut', 'ended']

/**
 * - `found` / `notFound` / `loadFailed`: a read of the store (first load, or a re-read after another
 *   tab changed it) found a session, found none, or failed.
 * - `signIn`: a sign-in of this tab was stored.
 * - `refreshStart`: this tab holds the lock and is about to send a refresh grant.
 * - `refreshAnswer`: the grant answered with tokens (the coordinator writes them only if accepted).
 * - `refreshRefused`: the refresh token is missing or refused (`invalid_grant`): renew or end.
 * - `refreshFailed`: network, 5xx, timeout or a refusal that leaves the grant alive: nothing changes.
 * - `renewAnswer` / `renewFailed`: silent renewal brought the same user back / did not.
 * - `expire`: the session cannot go on (an answer that cannot be trusted, the DPoP key gone).
 * - `logoutHere`, `wiped`, `wipeFailed`: `logout()` of this page, and how its wipe went.
 * - `remoteLogout`, `remoteExpired`, `remoteSignIn`: another tab logged out, lost its session, or
 *   signed in (sent after the store was re-read and holds the new session).
 * - `storageLost`: the database went away under the page and the session is gone from it.
 * - `hold` / `settle`: a callback is being handled (status stays `loading`) / it has settled.
 */
export type SessionEvent =
  | 'found'
  | 'notFound'
  | 'loadFailed'
  | 'signIn'
  | 'refreshStart'
  | 'refreshAnswer'
  | 'refreshRefused'
  | 'refreshFailed'
  | 'renewAnswer'
  | 'renewFailed'
  | 'expire'
  | 'logoutHere'
  | 'wiped'
  | 'wipeFailed'
  | 'remoteLogout'
  | 'remoteExpired'
  | 'remoteSignIn'
  | 'storageLost'
  | 'hold'
  | 'settle'

/** Every event, in table order. */
export const EVENTS: readonly SessionEvent[] = [
  'found', 'notFound', 'loadFailed', 'signIn', 'refreshStart', 'refreshAnswer', 'refreshRefused', 'refreshFailed',
  'renewAnswer', 'renewFailed', 'expire', 'logoutHere', 'wiped', 'wipeFailed', 'remoteLogout', 'remoteExpired',
  'remoteSignIn', 'storageLost', 'hold', 'settle',
]

/**
 * What the session does on a transition, in this order:
 * - `end`: the session is over in this tab: end listeners run, the memory cache is forgotten, and
 *   where the tab keeps tokens only in memory they are deleted (nothing usable is left).
 * - `discard`: where this tab keeps tokens in memory only (`storage: 'memory'`, or after a fallback),
 *   they are deleted: another tab ended the session, and nothing of it may stay usable here.
 * - `loggedOut` / `loggedIn`: sets / clears the "signed out since the last sign-in" mark.
 * - `publish`: the snapshot follows the new state (with the event's error, if any), unless held.
 * - `hold` / `settle`: takes / releases the hold on the snapshot.
 * - `emit…`: the app's events; `post…`: the message to the other tabs.
 */
export type Effect =
  | 'end'
  | 'discard'
  | 'loggedOut'
  | 'loggedIn'
  | 'publish'
  | 'hold'
  | 'settle'
  | 'emitLogin'
  | 'emitLogout'
  | 'emitExpired'
  | 'emitRefreshed'
  | 'postLogin'
  | 'postLogout'
  | 'postExpired'
  | 'postRefreshed'

/** An accepted event: the next state and what to do. */
export interface Transition {
  readonly to: SessionState
  readonly effects: readonly Effect[]
}

/** The outcome of an event in a state: a transition, or `ignore` (nothing happens; the sender is told). */
export type Outcome = Transition | 'ignore'

const go = (to: SessionState, ...effects: Effect[]): Transition => ({ to, effects })
const I = 'ignore' as const

// Transitions shared by several rows.
// A sign-in of this tab ends any hold: its callback has been handled.
const SIGNED_IN = go('signedIn', 'loggedIn', 'settle', 'publish', 'emitLogin', 'postLogin')
const ADOPT = go('signedIn', 'loggedIn', 'publish', 'emitLogin')
const EXPIRE = go('ended', 'end', 'publish', 'emitExpired', 'postExpired')
const LOGOUT = go('signingOut', 'end', 'loggedOut', 'publish')
const REMOTE_LOGOUT = go('signedOut', 'end', 'discard', 'loggedOut', 'publish', 'emitLogout')
const REMOTE_EXPIRED = go('signedOut', 'end', 'discard', 'publish', 'emitExpired')
const LOST = go('signedOut', 'end', 'publish', 'emitExpired')
const stay = (s: SessionState, ...effects: Effect[]) => go(s, ...effects)

/** The transition table: every state × event has an outcome (the type requires every cell). */
export const TABLE: { readonly [S in SessionState]: { readonly [E in SessionEvent]: Outcome } } = {
  loading: {
    found: go('signedIn', 'publish'), notFound: go('signedOut', 'publish'), loadFailed: go('signedOut', 'publish'),
    signIn: SIGNED_IN, refreshStart: I, refreshAnswer: I, refreshRefused: I, refreshFailed: I, renewAnswer: I,
    renewFailed: I, expire: EXPIRE, logoutHere: LOGOUT, wiped: I, wipeFailed: I, remoteLogout: REMOTE_LOGOUT,
    remoteExpired: REMOTE_EXPIRED, remoteSignIn: ADOPT, storageLost: I, hold: stay('loading', 'hold'), settle: stay('loading', 'settle', 'publish'),
  },
  signedOut: {
    found: go('signedIn', 'publish'), notFound: stay('signedOut', 'publish'), loadFailed: stay('signedOut', 'publish'),
    signIn: SIGNED_IN, refreshStart: I, refreshAnswer: I, refreshRefused: I, refreshFailed: I, renewAnswer: I,
    renewFailed: I, expire: I, logoutHere: LOGOUT, wiped: I, wipeFailed: I,
    // Another tab's logout: this tab may still hold copies in memory; they go (`end`).
    remoteLogout: stay('signedOut', 'end', 'discard', 'loggedOut'), remoteExpired: stay('signedOut', 'end', 'discard'), remoteSignIn: ADOPT,
    storageLost: I, hold: stay('signedOut', 'hold'), settle: stay('signedOut', 'settle', 'publish'),
  },
  signedIn: {
    found: stay('signedIn', 'publish'), notFound: go('signedOut', 'end', 'publish'), loadFailed: go('signedOut', 'end', 'publish'),
    signIn: SIGNED_IN, refreshStart: go('refreshing'), refreshAnswer: I, refreshRefused: I, refreshFailed: I,
    renewAnswer: I, renewFailed: I, expire: EXPIRE, logoutHere: LOGOUT, wiped: I, wipeFailed: I,
    remoteLogout: REMOTE_LOGOUT, remoteExpired: REMOTE_EXPIRED, remoteSignIn: ADOPT, storageLost: LOST,
    hold: stay('signedIn', 'hold'), settle: stay('signedIn', 'settle', 'publish'),
  },
  refreshing: {
    found: stay('refreshing', 'publish'), notFound: I, loadFailed: I, signIn: SIGNED_IN, refreshStart: I,
    refreshAnswer: go('signedIn', 'publish', 'emitRefreshed', 'postRefreshed'), refreshRefused: go('renewing'),
    refreshFailed: go('signedIn'), renewAnswer: I, renewFailed: I, expire: EXPIRE, logoutHere: LOGOUT, wiped: I,
    wipeFailed: I, remoteLogout: REMOTE_LOGOUT, remoteExpired: REMOTE_EXPIRED, remoteSignIn: ADOPT, storageLost: LOST,
    hold: stay('refreshing', 'hold'), settle: stay('refreshing', 'settle', 'publish'),
  },
  renewing: {
    found: stay('renewing', 'publish'), notFound: I, loadFailed: I, signIn: SIGNED_IN, refreshStart: I, refreshAnswer: I,
    refreshRefused: I, refreshFailed: I, renewAnswer: go('signedIn', 'publish', 'emitRefreshed', 'postRefreshed'),
    renewFailed: EXPIRE, expire: EXPIRE, logoutHere: LOGOUT, wiped: I, wipeFailed: I, remoteLogout: REMOTE_LOGOUT,
    remoteExpired: REMOTE_EXPIRED, remoteSignIn: ADOPT, storageLost: LOST, hold: stay('renewing', 'hold'),
    settle: stay('renewing', 'settle', 'publish'),
  },
  // What other tabs announce while this page wipes is about a session this page has already ended.
  signingOut: {
    found: I, notFound: I, loadFailed: I, signIn: SIGNED_IN, refreshStart: I, refreshAnswer: I, refreshRefused: I,
    refreshFailed: I, renewAnswer: I, renewFailed: I, expire: I, logoutHere: stay('signingOut'),
    wiped: go('signedOut', 'publish', 'emitLogout', 'postLogout'), wipeFailed: go('ended', 'publish', 'emitLogout', 'postLogout'),
    remoteLogout: I, remoteExpired: I, remoteSignIn: I, storageLost: I, hold: stay('signingOut', 'hold'),
    settle: stay('signingOut', 'settle', 'publish'),
  },
  // Leftovers of an ended session are never read: only a successful wipe or a new sign-in leaves.
  ended: {
    found: I, notFound: I, loadFailed: I, signIn: SIGNED_IN, refreshStart: I, refreshAnswer: I, refreshRefused: I,
    refreshFailed: I, renewAnswer: I, renewFailed: I, expire: I, logoutHere: LOGOUT, wiped: go('signedOut'),
    wipeFailed: stay('ended'), remoteLogout: stay('ended', 'end', 'discard', 'loggedOut'), remoteExpired: stay('ended', 'end', 'discard'),
    remoteSignIn: ADOPT, storageLost: I, hold: stay('ended', 'hold'), settle: stay('ended', 'settle', 'publish'),
  },
}

/** Looks up what `event` does in `state`. */
export function outcome(state: SessionState, event: SessionEvent): Outcome {
  return TABLE[state][event]
}

/** States in which the app sees a session (`authenticated`). */
export const HAS_SESSION: ReadonlySet<SessionState> = new Set(['signedIn', 'refreshing', 'renewing'])
