/**
 * The session: the snapshot, the events, the cross-tab channel and the refresh coordinator, over
 * the token store. `getAccessToken` is answered from memory while the token is outside the
 * refresh leeway; otherwise one refresh runs per (resource, scope) in this tab, under a Web Lock
 * across tabs, and a tab that waited re-reads the store before deciding to refresh itself.
 *
 * @module
 */
import { normaliseResources, normaliseScope, type Config } from '../config.js'
import { OAuthError } from '../errors.js'
import { redact } from '../provider/errors.js'
import type { AcceptedTokens } from '../provider/token-response.js'
import type { AccessTokenRecord, SessionRecord } from '../store/records.js'
import { RECORD_VERSION } from '../store/records.js'
import { accessKey, type TokenStore } from '../store/token-store.js'
import type { GetAccessTokenOptions, User } from '../types.js'
import type { TabChannel } from './channel.js'
import type { Emitter } from './events.js'
import type { WithLock } from './lock.js'
import type { SnapshotStore } from './snapshot.js'

/** Errors after which the session cannot go on (the refresh token is dead or cannot be trusted). */
export const SESSION_ENDING = new WeakSet<OAuthError>()

/** Marks `error` as ending the session and returns it. */
export function endsSession(error: OAuthError): OAuthError {
  SESSION_ENDING.add(error)
  return error
}

/** What a refresh grant returns. */
export interface RefreshResult {
  tokens: AcceptedTokens
  /** The session anchor with the refreshed ID token, when the response had one. */
  session?: SessionRecord
}

/** Performs a refresh grant (protocol work lives outside the session). */
export type RefreshGrant = (
  refreshToken: string,
  request: { resource: string | undefined; scope: string | undefined },
  session: SessionRecord,
) => Promise<RefreshResult>

/** What a sign-in hands to the session. */
export interface SignIn {
  session: SessionRecord
  tokens: AcceptedTokens
  /** Key of the access token: resource and requested scope of the sign-in. */
  resource: string | undefined
}

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
   * `storage_error` when the stores could not be wiped (the session has ended all the same).
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
}

/** Builds the access-token record of a token response. */
export function accessRecord(tokens: AcceptedTokens, sub: string | undefined, resource: string | undefined): AccessTokenRecord {
  return {
    v: RECORD_VERSION,
    sub,
    token: tokens.accessToken,
    tokenType: tokens.tokenType,
    expiresAt: tokens.expiresAt,
    scope: tokens.scope,
    resource,
  }
}

/** Creates the session. It starts reading the stored session at once. */
export function createSession(deps: SessionDeps): Session {
  const { config, store, snapshot, emitter, channel, lock } = deps
  const lockName = `oauth-spa:${config.namespace}:refresh`
  const inflight = new Map<string, Promise<string>>()
  const endListeners: (() => void)[] = []
  /** Bumped whenever the session ends: a refresh that started before must not write after. */
  let epoch = 0
  let holding: object | undefined
  /**
   * Set when a logout or the end of a session could not wipe the store: what is left there belongs to a session that ended,
   * so nothing is read from it (and the wipe is tried again) until a wipe succeeds or a sign-in.
   */
  let wipePending = false
  /** The wipe of the latest logout of this page. */
  let signingOut: Promise<void> = Promise.resolve()
  /** Set by a logout here or in another tab, cleared by a sign-in. */
  let loggedOut = false
  /**
   * Set while a logout of this page waits for the refresh lock and wipes: what other tabs announce
   * meanwhile (a refresh that finished first) is about a session this page has already ended.
   */
  let wiping = false
  const retryWipe = () => store.clear().then(() => void (wipePending = false), () => undefined)
  /** The access-token key of `getAccessToken()` without options, for the session it was built for. */
  let defaultKey = ''
  let defaultKeyOf: SessionRecord | undefined

  const fresh = (record: AccessTokenRecord | undefined): record is AccessTokenRecord =>
    record !== undefined && record.expiresAt - config.refreshLeewayMs > Date.now()

  const userOf = (s: SessionRecord | undefined): User | undefined => s?.claims

  function publish(s: SessionRecord | undefined, error?: OAuthError): void {
    if (holding) return
    snapshot.set(
      s
        ? { status: 'authenticated', user: userOf(s) }
        : error
          ? { status: 'unauthenticated', error }
          : { status: 'unauthenticated' },
    )
  }

  function ended(): void {
    epoch++
    for (const l of endListeners) l()
  }

  const ready = store.loadSession().then(
    (s) => publish(epoch === 0 ? s : undefined),
    (e: unknown) => {
      const error = new OAuthError('storage_error', 'the stored session could not be read', { cause: redact(e) })
      publish(undefined, error)
    },
  )

  async function endSession(cause: OAuthError): Promise<OAuthError> {
    ended()
    // The memory cache is gone already; what a failed wipe leaves is never read (see wipePending).
    await store.clear().catch(() => void (wipePending = true))
    const error = new OAuthError('login_required', 'the session has ended: sign in again', { cause: redact(cause) })
    publish(undefined, error)
    emitter.emit('session_expired', { error: cause })
    channel.post({ type: 'expired' })
    return error
  }

  channel.onMessage((message) => {
    store.dropCache()
    if (message.type === 'logout' || message.type === 'expired') {
      ended()
      if (message.type === 'logout') loggedOut = true
      store.loadSession().catch(() => undefined).then(() => {
        publish(undefined)
        if (message.type === 'logout') emitter.emit('logout', {})
        else emitter.emit('session_expired', { error: new OAuthError('login_required', 'the session ended in another tab') })
      })
      return
    }
    if (wiping) return
    // Another tab signed in: its write replaced what a failed wipe left here.
    if (message.type === 'login') wipePending = loggedOut = false
    if (wipePending) return
    store.loadSession().then(
      (s) => {
        publish(s)
        // (With storage: 'memory' another tab's sign-in is not readable here: no event then.)
        if (message.type === 'login' && s) emitter.emit('login', { user: userOf(s) })
      },
      () => undefined,
    )
  })

  async function refreshLocked(
    key: string,
    resource: string | undefined,
    scopeParam: string | undefined,
    stale: string | undefined,
  ): Promise<string> {
    const startEpoch = epoch
    const s = await store.loadSession()
    if (!s) {
      publish(undefined)
      throw new OAuthError('login_required', 'there is no session: sign in first')
    }
    const current = await store.readAccess(key)
    // Another tab (or an earlier caller) refreshed while this one waited: adopt its token.
    if (fresh(current) && current.token !== stale) return current.token

    let rt = await store.readRefresh()
    for (let attempt = 0; ; attempt++) {
      if (!rt) {
        throw await endSession(new OAuthError('login_required', 'the access token expired and there is no refresh token'))
      }
      let result: RefreshResult
      try {
        result = await deps.refreshGrant(rt.token, { resource, scope: scopeParam }, s)
      } catch (e) {
        const error = e instanceof OAuthError ? e : new OAuthError('network_error', 'refresh failed', { cause: redact(e) })
        if (error.code === 'invalid_grant') {
          // Rotated by a tab that did not hold our lock? Adopt its tokens instead of logging out.
          // (Best effort: a store that cannot be read cannot offer anything to adopt.)
          const again = await store.readRefresh().catch(() => undefined)
          const adopted = await store.readAccess(key).catch(() => undefined)
          if (fresh(adopted) && adopted.token !== stale) return adopted.token
          if (again && again.token !== rt.token && attempt === 0) {
            rt = again
            continue
          }
          throw await endSession(error)
        }
        if (SESSION_ENDING.has(error)) throw await endSession(error)
        throw error
      }
      if (epoch !== startEpoch) throw new OAuthError('login_required', 'the session ended during the refresh')
      const record = accessRecord(result.tokens, s.sub, resource)
      await store.saveRefresh({
        access: { key, record },
        ...(result.tokens.refreshToken === undefined
          ? {}
          : { refresh: { v: RECORD_VERSION, sub: s.sub, token: result.tokens.refreshToken } }),
        ...(result.session ? { session: result.session } : {}),
      })
      channel.post({ type: 'refreshed' })
      if (result.session) publish(result.session)
      emitter.emit('token_refreshed', { resource, scope: record.scope, expiresAt: record.expiresAt })
      return record.token
    }
  }

  async function slowPath(
    resource: string | undefined,
    scopeParam: string | undefined,
    force: boolean,
    rejected: string | undefined,
  ): Promise<string> {
    await ready
    if (wipePending) await retryWipe()
    const s = wipePending ? undefined : (store.cachedSession() ?? (await store.loadSession()))
    if (!s) throw new OAuthError('login_required', 'there is no session: sign in first')
    // RFC 8707 §2.2: a refresh may only narrow the sign-in's resources. Asking for another one is
    // refused here, before a provider can consume the refresh token while refusing it.
    const allowed = s.resources ?? config.resources
    if (resource !== undefined && allowed.length > 0 && !allowed.includes(resource)) {
      throw new OAuthError('configuration_error', `resource ${JSON.stringify(resource)} is not one of this sign-in's resource indicators (set it in "resource", or pass it to login()); nothing was sent`)
    }
    const key = accessKey(config.namespace, resource, scopeParam ?? s.scope)
    const known = store.cachedAccess(key) ?? (await store.readAccess(key))
    if ((!force || (rejected !== undefined && known?.token !== rejected)) && fresh(known)) return known.token
    // With forceRefresh, the token to replace is the one the API rejected, else the one this tab
    // knows, else the stored one (right after a reload the memory cache is still empty).
    const stale = force ? (rejected ?? known?.token) : undefined
    // No await between this check and inflight.set: concurrent callers share one refresh.
    const running = inflight.get(key)
    if (running) return running
    const p = lock(lockName, () => refreshLocked(key, resource, scopeParam, stale))
    inflight.set(key, p)
    const clear = () => {
      if (inflight.get(key) === p) inflight.delete(key)
    }
    p.then(clear, clear)
    return p
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
      if (s !== undefined && !force) {
        let key: string
        if (resource === config.resources[0] && scope === undefined) {
          if (s !== defaultKeyOf) {
            defaultKey = accessKey(config.namespace, resource, s.scope)
            defaultKeyOf = s
          }
          key = defaultKey
        } else key = accessKey(config.namespace, resource, scope ?? s.scope)
        const hit = store.cachedAccess(key)
        if (fresh(hit)) return Promise.resolve(hit.token)
      }
      return slowPath(resource, scope, force, rejected).catch((e: unknown) => {
        // Anything that is not already typed came from the store (IndexedDB failed or went away).
        throw e instanceof OAuthError ? e : new OAuthError('storage_error', 'the token store could not be read or written', { cause: redact(e) })
      })
    },

    async signIn({ session: s, tokens, resource }) {
      if (wipePending) await retryWipe()
      // Under the refresh lock: a refresh of the replaced session that is running in another tab
      // writes its rotated tokens before this sign-in does, never over it.
      await lock(lockName, () =>
        store.saveSignIn({
          session: s,
          refresh: tokens.refreshToken === undefined ? null : { v: RECORD_VERSION, sub: s.sub, token: tokens.refreshToken },
          access: { key: accessKey(config.namespace, resource, s.scope), record: accessRecord(tokens, s.sub, resource) },
        }),
      )
      wipePending = loggedOut = false
      holding = undefined
      publish(s)
      emitter.emit('login', { user: userOf(s) })
      channel.post({ type: 'login' })
    },

    signOut() {
      // Synchronously known as running: a login() called right after logout() waits for the wipe.
      const work = ready.then(() => {
        ended()
        loggedOut = wiping = true
        store.dropCache()
        publish(undefined)
        // Under the refresh lock: a refresh running in another tab finishes before the wipe.
        return lock(lockName, async () => {
          // Best effort: a store that cannot be read or wiped must not keep the user signed in here.
          const s = await store.loadSession().catch(() => undefined)
          const rt = await store.readRefresh().catch(() => undefined)
          const error = await store.clear(true).then(
            () => undefined,
            (e: unknown) => {
              wipePending = true
              return new OAuthError('storage_error', 'logout: the stored tokens could not be deleted; this page will not use them', { cause: redact(e) })
            },
          )
          channel.post({ type: 'logout' })
          emitter.emit('logout', {})
          return { refreshToken: rt?.token, idToken: s?.idToken, ...(error ? { error } : {}) }
        })
      })
      const done = () => {
        wiping = false
        publish(undefined)
      }
      signingOut = work.then(done, done)
      return work
    },

    idle: () => signingOut,

    afterLogout: () => loggedOut || store.signedOut(),

    hold() {
      const token = {}
      holding = token
      return token
    },

    async settle(token, error) {
      if (token !== undefined && holding !== token) return
      holding = undefined
      await ready
      publish(wipePending ? undefined : (store.cachedSession() ?? (await store.loadSession().catch(() => undefined))), error)
    },

    onEnd(listener) {
      endListeners.push(listener)
    },

    expire: (cause) => endSession(cause),

    resync() {
      const had = store.cachedSession() !== undefined
      store.dropCache()
      if (wipePending) return void retryWipe()
      void store.loadSession().then(
        (s) => {
          if (s || !had) return publish(s)
          ended()
          const error = new OAuthError('login_required', 'the stored session is gone (site data cleared?): sign in again')
          publish(undefined, error)
          emitter.emit('session_expired', { error })
        },
        (e: unknown) => publish(undefined, new OAuthError('storage_error', 'the stored session could not be read', { cause: redact(e) })),
      )
    },
  }
}
