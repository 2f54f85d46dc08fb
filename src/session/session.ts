/**
 * The session of one client: the transition table of `machine.ts` run by `runner.ts`, fed by the
 * refresh coordinator (`refresh.ts`), the cross-tab sync (`sync.ts`) and the calls below.
 * `getAccessToken` is answered from memory while the token is outside the refresh leeway.
 *
 * @module
 */
import { normaliseResources, normaliseScope, type Config } from '../config.js'
import { OAuthError } from '../errors.js'
import { once } from '../lazy.js'
import { redact } from '../provider/redact.js'
import { RECORD_VERSION, type SessionRecord } from '../store/records.js'
import { accessKey, type TokenStore } from '../store/token-store.js'
import type { GetAccessTokenOptions } from '../types.js'
import type { TabChannel } from './channel.js'
import type { Emitter } from './events.js'
import type { WithLock } from './lock.js'
import { HAS_SESSION } from './machine.js'
import type { createRefresher, Refresher } from './refresh.js'
import { accessRecord, isFresh, type RefreshGrant, type Renew, type SignIn } from './token-records.js'
import { createRunner } from './runner.js'
import type { SnapshotStore } from './snapshot.js'
import { syncTabs } from './sync.js'

export { accessRecord, endsSession, refreshCeilingMs, SESSION_ENDING } from './token-records.js'
export type { RefreshGrant, RefreshResult, Renew, SignIn } from './token-records.js'

/** The session of one client. */
export interface Session {
  /** Resolves when the stored session has been read. */
  readonly ready: Promise<void>
  /**
   * `rejected`: the token an API just refused (with `forceRefresh`). When it has been replaced
   * already (a caller whose 401 came later), the replacement is returned instead of refreshing again.
   */
  getAccessToken(options?: GetAccessTokenOptions, rejected?: string): Promise<string>
  signIn(data: SignIn): Promise<void>
  /**
   * Ends the session locally (in every tab). Returns what logout still needs to send, and a
   * `storage_error` when the stores could not be wiped (the session has ended all the same, and
   * what is left is never read: not here, not in other tabs, not after a reload).
   */
  signOut(): Promise<{ refreshToken: string | undefined; idToken: string | undefined; error?: OAuthError }>
  /** Keeps the status at `loading` (a callback is being handled) until {@link Session.settle}. */
  hold(): object
  /** Ends a hold (only the latest, when `token` is given) and publishes the session, with `error` if signed out. */
  settle(token?: object, error?: OAuthError): Promise<void>
  /** Called whenever the session ends, here or in another tab. */
  onEnd(listener: () => void): void
  /**
   * Ends the session because it cannot go on (e.g. the DPoP key is gone): stores wiped,
   * `session_expired` here and in other tabs. Returns the `login_required` error to throw.
   */
  expire(cause: OAuthError): Promise<OAuthError>
  /**
   * Re-reads the store after it changed under the page (IndexedDB cleared or reopened). A session
   * that is gone from it ends here: `unauthenticated` and `session_expired`.
   */
  resync(): void
  /** Resolves when no logout of this page is still wiping the store (a new sign-in waits for it). */
  idle(): Promise<void>
  /**
   * Whether the user signed out (in this page, in another open tab, or in this tab before a
   * reload) since the last sign-in.
   */
  afterLogout(): boolean
}

/** Dependencies of {@link createSession}. */
export interface SessionDeps {
  config: Config
  store: TokenStore
  snapshot: SnapshotStore
  emitter: Emitter
  channel: TabChannel
  lock: WithLock
  refreshGrant: RefreshGrant
  /**
   * Silent renewal (optional): called, under the refresh lock, when the session has no refresh
   * token or the provider refused it, before the session ends. A different `sub` ends the session.
   */
  renew?: Renew
  /**
   * Loads the refresh coordinator (on first need). The client loads it with the protocol code it
   * calls, as one chunk.
   */
  loadRefresher(): Promise<typeof createRefresher>
}

const noSession = () => new OAuthError('login_required', 'there is no session: sign in first')
const readError = (e: unknown) => new OAuthError('storage_error', 'the stored session could not be read', { cause: redact(e) })

/** Creates the session. It starts reading the stored session at once. */
export function createSession(deps: SessionDeps): Session {
  const { config, store, lock } = deps
  const lockName = `oauth-spa:${config.namespace}:refresh`
  const runner = createRunner(deps)
  /** The wipe of the latest logout of this page. */
  let signingOut: Promise<void> = Promise.resolve()
  /** The access-token key of `getAccessToken()` without options, for the session it was built for. */
  let defaultKey = ''
  let defaultKeyOf: SessionRecord | undefined

  const save = ({ session: s, tokens, resource }: SignIn) =>
    store.saveSignIn({
      session: s,
      refresh: tokens.refreshToken === undefined ? null : { v: RECORD_VERSION, sub: s.sub, token: tokens.refreshToken },
      access: { key: accessKey(config.namespace, resource, s.scope), record: accessRecord(tokens, s.sub, resource) },
    })
  // The refresh coordinator loads on first need (bundled with the protocol code it calls).
  const refresher = once(
    async (): Promise<Refresher> =>
      (await deps.loadRefresher())({ config, store, lock, lockName, runner, refreshGrant: deps.refreshGrant, renew: deps.renew, save }),
  )

  const generation = runner.generation
  /** Set once the stored session has been read (`ready` settled). */
  let loaded = false
  const ready = store.loadSession().then(
    (s) => {
      loaded = true
      if (runner.generation === generation) runner.send(s ? 'found' : 'notFound')
    },
    (e: unknown) => {
      loaded = true
      runner.send('loadFailed', { error: readError(e) })
    },
  )
  syncTabs(deps.channel, store, runner)

  /** The session, when this page has one (after wiping what an ended one left, or adopting another tab's). */
  async function current(): Promise<SessionRecord | undefined> {
    await ready
    await runner.retryWipe()
    if (runner.state === 'signedOut') {
      // Another tab may have signed in where no message could tell (no BroadcastChannel).
      const s = await store.loadSession()
      if (s && runner.state === 'signedOut') runner.send('found')
    }
    if (!HAS_SESSION.has(runner.state)) return undefined
    return store.cachedSession() ?? (await store.loadSession())
  }

  async function slowPath(resource: string | undefined, scope: string | undefined, force: boolean, rejected: string | undefined): Promise<string> {
    const s = await current()
    if (!s) throw noSession()
    // RFC 8707 §2.2: a refresh may only narrow the sign-in's resources. Asking for another one is
    // refused here, before a provider can consume the refresh token while refusing it.
    const allowed = s.resources ?? config.resources
    if (resource !== undefined && allowed.length > 0 && !allowed.includes(resource)) {
      throw new OAuthError('configuration_error', `resource ${JSON.stringify(resource)} is not one of this sign-in's resource indicators (set it in "resource", or pass it to login()); nothing was sent`)
    }
    const key = accessKey(config.namespace, resource, scope ?? s.scope)
    const known = store.cachedAccess(key) ?? (await store.readAccess(key))
    if ((!force || (rejected !== undefined && known?.token !== rejected)) && isFresh(config, known)) return known.token
    // With forceRefresh, the token to replace is the one the API rejected, else the one this tab
    // knows, else the stored one (right after a reload the memory cache is still empty).
    return (await refresher()).token({ key, resource, scope, stale: force ? (rejected ?? known?.token) : undefined })
  }

  return {
    ready,

    getAccessToken(options, rejected) {
      let resource = config.resources[0]
      let scope: string | undefined
      let force = false
      if (options !== undefined) {
        try {
          if (
            typeof options !== 'object' ||
            options === null ||
            (options.resource !== undefined && typeof options.resource !== 'string') ||
            (options.forceRefresh !== undefined && typeof options.forceRefresh !== 'boolean')
          ) {
            throw new OAuthError('configuration_error', 'getAccessToken: options must be { resource?: string, scope?: string, forceRefresh?: boolean }')
          }
          if (options.scope !== undefined) scope = normaliseScope(options.scope, 'getAccessToken scope')
          if (options.resource !== undefined) resource = normaliseResources(options.resource, 'getAccessToken resource')[0]
        } catch (e) {
          return Promise.reject(e)
        }
        force = options.forceRefresh === true
      }
      // Hot path: memory only, and for the default token (no options) not even a string built.
      const s = store.cachedSession()
      if (s !== undefined && !force && HAS_SESSION.has(runner.state)) {
        let key: string
        if (resource === config.resources[0] && scope === undefined) {
          if (s !== defaultKeyOf) {
            defaultKey = accessKey(config.namespace, resource, s.scope)
            defaultKeyOf = s
          }
          key = defaultKey
        } else key = accessKey(config.namespace, resource, scope ?? s.scope)
        const hit = store.cachedAccess(key)
        if (isFresh(config, hit)) return Promise.resolve(hit.token)
      }
      return slowPath(resource, scope, force, rejected).catch((e: unknown) => {
        // Anything that is not already typed came from the store (IndexedDB failed or went away).
        throw e instanceof OAuthError ? e : new OAuthError('storage_error', 'the token store could not be read or written', { cause: redact(e) })
      })
    },

    async signIn(data) {
      await runner.retryWipe()
      // Under the refresh lock: a refresh of the replaced session that is running in another tab
      // writes its rotated tokens before this sign-in does, never over it.
      await lock(lockName, () => save(data))
      runner.send('signIn')
    },

    signOut() {
      const wasLoaded = loaded
      // Synchronously known as running: a login() called right after logout() waits for the wipe.
      const work = ready.then(() => {
        if (!wasLoaded) runner.send('logoutHere')
        // Under the refresh lock: a refresh running in another tab finishes before the wipe.
        return lock(lockName, async () => {
          // Best effort: a store that cannot be read or wiped must not keep the user signed in here.
          const s = await store.loadSession().catch(() => undefined)
          const rt = await store.readRefresh().catch(() => undefined)
          const error = await store.clear(true).then(
            () => undefined,
            (e: unknown) => new OAuthError('storage_error', 'logout: the stored tokens could not be deleted; they will not be used (here, in other tabs or after a reload)', { cause: redact(e) }),
          )
          runner.send(error ? 'wipeFailed' : 'wiped')
          return { refreshToken: rt?.token, idToken: s?.idToken, ...(error ? { error } : {}) }
        })
      })
      const done = () => undefined
      signingOut = work.then(done, done)
      // The session ends now, in this task, once it has been read: a getAccessToken() or an
      // auth.fetch() right after logout() gets no token, and the snapshot says unauthenticated.
      // (After `signingOut` is set: a listener that calls login() on that news waits for the wipe.)
      if (wasLoaded) runner.send('logoutHere')
      return work
    },

    idle: () => signingOut,

    afterLogout: () => runner.loggedOut || store.signedOut(),

    hold() {
      const token = {}
      runner.send('hold', { hold: token })
      return token
    },

    async settle(token, error) {
      await ready
      runner.send('settle', { ...(token ? { hold: token } : {}), ...(error ? { error } : {}) })
    },

    onEnd: (listener) => runner.onEnd(listener),

    expire: (cause) => runner.endWith('expire', cause),

    resync() {
      const had = HAS_SESSION.has(runner.state)
      store.dropCache()
      if (runner.state === 'ended') return void runner.retryWipe()
      const generation = runner.generation
      void store.loadSession().then(
        (s) => {
          if (generation !== runner.generation) return
          if (s || !had) return void runner.send(s ? 'found' : 'notFound')
          const error = new OAuthError('login_required', 'the stored session is gone (site data cleared?): sign in again')
          runner.send('storageLost', { error, cause: error })
        },
        (e: unknown) => void runner.send('loadFailed', { error: readError(e) }),
      )
    },
  }
}
