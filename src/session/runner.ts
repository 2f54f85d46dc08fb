/**
 * Runs the transition table: keeps the current state, and carries out the effects of each accepted
 * event (snapshot, app events, messages to other tabs). It decides nothing itself.
 *
 * @module
 */
import { OAuthError } from '../errors.js'
import { redact } from '../provider/redact.js'
import type { SessionRecord } from '../store/records.js'
import type { TokenStore } from '../store/token-store.js'
import type { TabChannel } from './channel.js'
import type { Emitter } from './events.js'
import { HAS_SESSION, outcome, type Effect, type SessionEvent, type SessionState } from './machine.js'
import type { SnapshotStore } from './snapshot.js'

/** What an event carries. */
export interface EventData {
  /** The error the snapshot shows (`unauthenticated` with `error`). */
  error?: OAuthError
  /** Why the session ended (the `session_expired` payload). */
  cause?: OAuthError
  /** The `token_refreshed` payload. */
  refreshed?: { resource: string | undefined; scope: string; expiresAt: number }
  /** The hold of `hold` / `settle` (a `settle` without one releases any hold). */
  hold?: object
}

/** The session's state and the effects of its transitions. */
export interface Runner {
  readonly state: SessionState
  /** Bumped by every `end`: a store read that started before must not be acted on. */
  readonly generation: number
  /** Whether the user signed out (here or in another tab) since the last sign-in. */
  readonly loggedOut: boolean
  /** Sends `event`; `false` when the table ignores it in the current state. */
  send(event: SessionEvent, data?: EventData): boolean
  /** Whether `event` would be accepted now. */
  accepts(event: SessionEvent): boolean
  onEnd(listener: () => void): void
  /**
   * Ends the session with `event` (`expire` or `renewFailed`): stores wiped (leftovers are never
   * read), `session_expired` here and in other tabs. Returns the `login_required` error to throw.
   */
  endWith(event: 'expire' | 'renewFailed', cause: OAuthError): Promise<OAuthError>
  /** Tries to wipe what an ended session left in the store. */
  retryWipe(): Promise<void>
}

/** What the runner acts on. */
export interface RunnerDeps {
  store: TokenStore
  snapshot: SnapshotStore
  emitter: Emitter
  channel: TabChannel
}

/** Creates the runner, in state `loading`. */
export function createRunner({ store, snapshot, emitter, channel }: RunnerDeps): Runner {
  let state: SessionState = 'loading'
  let generation = 0
  let held: object | undefined
  let loggedOut = false
  const endListeners: (() => void)[] = []
  const user = (s: SessionRecord | undefined) => s?.claims

  function publish(data: EventData): void {
    if (held || state === 'loading') return
    if (HAS_SESSION.has(state)) snapshot.set({ status: 'authenticated', user: user(store.cachedSession()) })
    else snapshot.set(data.error ? { status: 'unauthenticated', error: data.error } : { status: 'unauthenticated' })
  }

  const effects: Record<Effect, (data: EventData) => void> = {
    end() {
      generation++
      store.dropCache()
      for (const l of endListeners) l()
    },
    discard: () => void store.forget().catch(() => undefined),
    loggedOut: () => void (loggedOut = true),
    loggedIn: () => void (loggedOut = false),
    publish,
    hold: (data) => void (held = data.hold),
    settle(data) {
      if (data.hold === undefined || data.hold === held) held = undefined
    },
    emitLogin: () => emitter.emit('login', { user: user(store.cachedSession()) }),
    emitLogout: () => emitter.emit('logout', {}),
    emitExpired: (data) =>
      emitter.emit('session_expired', { error: data.cause ?? new OAuthError('login_required', 'the session ended in another tab') }),
    emitRefreshed: (data) => {
      if (data.refreshed) emitter.emit('token_refreshed', data.refreshed)
    },
    postLogin: () => channel.post({ type: 'login' }),
    postLogout: () => channel.post({ type: 'logout' }),
    postExpired: () => channel.post({ type: 'expired' }),
    postRefreshed: () => channel.post({ type: 'refreshed' }),
  }

  const runner: Runner = {
    get state() {
      return state
    },
    get generation() {
      return generation
    },
    get loggedOut() {
      return loggedOut
    },
    send(event, data = {}) {
      const next = outcome(state, event)
      if (next === 'ignore') return false
      state = next.to
      for (const effect of next.effects) effects[effect](data)
      return true
    },
    accepts: (event) => outcome(state, event) !== 'ignore',
    onEnd(listener) {
      endListeners.push(listener)
    },
    async endWith(event, cause) {
      const error = new OAuthError('login_required', 'the session has ended: sign in again', { cause: redact(cause) })
      if (runner.send(event, { error, cause })) await runner.retryWipe()
      return error
    },
    async retryWipe() {
      if (state !== 'ended') return
      await store.clear().then(
        () => runner.send('wiped'),
        () => runner.send('wipeFailed'),
      )
    },
  }
  return runner
}
