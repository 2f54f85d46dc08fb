/**
 * `createOAuthClient`: wires the redirect manager, the token store, the session and the fetch
 * wrapper together. Synchronous and cheap: discovery happens on first need, IndexedDB opens in
 * the background.
 *
 * @module
 */
import { resolveConfig } from './config.js'
import { createDpopKeys } from './dpop/keys.js'
import { OAuthError } from './errors.js'
import { createAuthFetch } from './fetch/auth-fetch.js'
import { redact } from './provider/errors.js'
import { refreshTokens } from './provider/grants.js'
import { missingRefreshToken } from './provider/offline-access.js'
import { createProvider } from './provider/provider.js'
import { startLogin } from './redirect/authorize.js'
import { createCallbackHandler } from './redirect/callback.js'
import { completeLogoutReturn, logout } from './redirect/logout.js'
import { createTransactionStore } from './redirect/transactions.js'
import { openTabChannel } from './session/channel.js'
import { createEmitter } from './session/events.js'
import { createLock } from './session/lock.js'
import { createSession, endsSession } from './session/session.js'
import { refreshCeilingMs } from './session/refresh.js'
import { createSnapshotStore } from './session/snapshot.js'
import { openStorage } from './store/open-storage.js'
import { createTokenStore } from './store/token-store.js'
import type { OAuthClient, OAuthClientOptions } from './types.js'

function navigate(url: string): void {
  location.assign(url)
}

/**
 * Creates a client. Call it once per app (per issuer and client id) and share the result.
 *
 * @example
 * ```ts
 * import { createOAuthClient } from 'oauth-spa'
 *
 * export const auth = createOAuthClient({
 *   issuer: 'https://auth.example.com',
 *   clientId: 'my-spa',
 *   redirectUri: `${location.origin}/callback`,
 *   apiOrigins: ['https://api.example.com'],
 *   resource: 'https://api.example.com',
 * })
 *
 * if (auth.isRedirectCallback()) {
 *   const { returnTo } = await auth.handleRedirectCallback()
 *   history.replaceState(null, '', returnTo)
 * }
 * const me = await auth.fetch('https://api.example.com/me').then((r) => r.json())
 * ```
 *
 * @throws {OAuthError} `configuration_error` when an option cannot work (the message says which).
 */
export function createOAuthClient(options: OAuthClientOptions): OAuthClient {
  const config = resolveConfig(options)
  const emitter = createEmitter()
  const snapshot = createSnapshotStore()
  const provider = createProvider(config)

  const backend = openStorage(config.storage, config.namespace, (cause) => {
    const error = new OAuthError('storage_error', 'IndexedDB is unavailable: the session is kept in memory only and ends with this page', {
      cause: redact(cause),
    })
    // Asynchronous, so a listener attached right after createOAuthClient sees it.
    setTimeout(() => emitter.emit('storage_fallback', { error }), 0)
  }, () => session.resync())
  const store = createTokenStore(backend, config.namespace)
  const transactions = createTransactionStore(backend, config.namespace)
  const lock = createLock()
  const dpopKeys = createDpopKeys(backend, config.namespace, lock)

  /** The session's DPoP handle. Tokens bound to a lost key cannot be used: the session ends, in every tab. */
  const dpopHandle = async () => {
    if (!config.dpop) return undefined
    const handle = await dpopKeys.handle(false)
    if (!handle) throw await session.expire(new OAuthError('dpop_error', 'the DPoP key of this session is gone'))
    return handle
  }

  const session = createSession({
    config,
    store,
    snapshot,
    emitter,
    channel: openTabChannel(config.namespace),
    lock,
    refreshGrant: async (refreshToken, request, current) => {
      const dpop = await dpopHandle()
      try {
        return await refreshTokens(provider, { refreshToken, ...request, session: current, dpop, timeoutMs: refreshCeilingMs(config), userInfo: config.userInfo })
      } catch (e) {
        // A success answer that cannot be trusted (a malformed token response, a refreshed ID token
        // for someone else, a downgrade from DPoP) ends the session: the provider may have rotated
        // the refresh token already. A refusal (4xx), a 5xx, the network or a timeout leave it as
        // it was; invalid_grant is the session's own business.
        if (e instanceof OAuthError && (e.code === 'dpop_error' || (e.code === 'invalid_token_response' && !(e.status !== undefined && e.status >= 400)))) {
          throw endsSession(e)
        }
        throw e
      }
    },
  })
  session.onEnd(() => dpopKeys.forget())

  const report = (error: OAuthError) => emitter.emit('error', { error })
  const callbacks = createCallbackHandler({ config, provider, transactions, session, dpopKeys, report })
  // Back from the provider's end-session page: check the logout's state.
  completeLogoutReturn(config, report)

  const getAccessToken: OAuthClient['getAccessToken'] = (opts) => session.getAccessToken(opts)
  const authFetch = createAuthFetch({ config, getAccessToken: session.getAccessToken, dpop: dpopHandle })

  // On the redirect URI with a callback, the status stays `loading` until it is handled.
  if (typeof location !== 'undefined' && callbacks.isCallback()) {
    // handleRedirectCallback takes the hold over until it settles; an app that never calls it gets
    // its status after 10 s, and at once when the callback is another client's (same redirect URI).
    const token = session.hold()
    setTimeout(() => void session.settle(token), 10_000)
    void callbacks.owns().then((mine) => {
      if (!mine) void session.settle(token)
    })
  }

  /**
   * Set while logout() is on its way to the provider's end-session page: the snapshot already says
   * `unauthenticated`, and a route guard reacting to it must not start a sign-in that races the
   * logout navigation (the provider, its session still alive, would sign the user straight back in).
   */
  let leaving = false
  /** Sign-in results whose grant has been checked (a second handleRedirectCallback gets the same one). */
  const reported = new WeakSet<object>()

  return {
    async login(opts) {
      // A logout of this page may still be wiping the store: the new transaction (and DPoP key)
      // must not be wiped with the old session.
      await session.idle()
      if (leaving) return new Promise<never>(() => {})
      // After a sign-out (here, in another open tab, or in this tab before a reload) the provider's
      // session may still be alive: ask for its form, so that a route guard cannot sign the user
      // straight back in.
      const ask = session.afterLogout() && (opts === undefined || (typeof opts === 'object' && opts !== null && opts.prompt === undefined))
      return startLogin({ config, provider, transactions, dpopKeys, warn: report, navigate }, ask ? { ...opts, prompt: 'login' } : opts)
    },
    handleRedirectCallback: (url) =>
      callbacks.handle(url).then((result) => {
        // A sign-in that asked for offline_access and got no refresh token is reported once.
        const problem = reported.has(result) ? undefined : missingRefreshToken(result.grant)
        reported.add(result)
        if (problem) report(problem)
        return result
      }),
    isRedirectCallback: (url) => callbacks.isCallback(url),
    getAccessToken,
    fetch: authFetch,
    getUser: () => snapshot.get().user,
    async getIdToken() {
      await session.ready
      const { status, user } = snapshot.get()
      if (status !== 'authenticated') return undefined
      const record = store.cachedSession() ?? (await store.loadSession().catch(() => undefined))
      // Only the signed-in user's: never what another tab's sign-in just put in the store.
      return record !== undefined && record.sub === user?.sub ? record.idToken : undefined
    },
    getSnapshot: () => snapshot.get(),
    subscribe: (listener) => snapshot.subscribe(listener),
    on: (event, listener) => emitter.on(event, listener),
    async logout(opts) {
      let navigated = false
      leaving = opts?.localOnly !== true || opts.returnTo !== undefined
      const leave = (url: string) => {
        navigated = true
        navigate(url)
      }
      try {
        await logout({ config, provider, session, report, navigate: leave }, opts)
      } finally {
        // Stays set only when the page is actually leaving.
        leaving = navigated
      }
    },
  }
}
