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
import { createStepUp } from './fetch/step-up.js'
import { redact } from './provider/errors.js'
import { refreshTokens } from './provider/grants.js'
import { missingRefreshToken } from './provider/offline-access.js'
import { createProvider } from './provider/provider.js'
import { prepareLogin, startLogin, type AuthorizeDeps } from './redirect/authorize.js'
import { createCallbackHandler } from './redirect/callback.js'
import { completeLogoutReturn, logout } from './redirect/logout.js'
import { createPopupLogin } from './redirect/popup.js'
import { createRelay } from './redirect/relay.js'
import { createSilentSignIn } from './redirect/silent.js'
import { createTransactionStore } from './redirect/transactions.js'
import { openTabChannel } from './session/channel.js'
import { createEmitter } from './session/events.js'
import { createLock } from './session/lock.js'
import { createSession, endsSession } from './session/session.js'
import { refreshCeilingMs } from './session/refresh.js'
import { createSnapshotStore } from './session/snapshot.js'
import { openStorage } from './store/open-storage.js'
import { withWebStorage } from './store/web-storage.js'
import { createTokenStore } from './store/token-store.js'
import type { OAuthClient, OAuthClientOptions, RedirectResult } from './types.js'

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

  const relay = createRelay(config.namespace)
  const report = (error: OAuthError) => emitter.emit('error', { error })
  const authorizeDeps: AuthorizeDeps = { config, provider, transactions, dpopKeys, warn: report, navigate }
  // Set once the callback handler exists (it needs the session).
  let exchange: (href: string) => ReturnType<ReturnType<typeof createCallbackHandler>['exchange']>
  const silentSignIn =
    config.silentRenew === 'iframe'
      ? createSilentSignIn({
          config,
          prepare: (opts, internal) => prepareLogin(authorizeDeps, opts, internal),
          relay,
          exchange: (href) => exchange(href),
          discard: (state) => transactions.discard(state),
          current: () => store.cachedSession(),
        })
      : undefined

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
    renew: silentSignIn,
  })
  session.onEnd(() => dpopKeys.forget())

  const callbacks = createCallbackHandler({ config, provider, transactions, session, dpopKeys, report })
  // Back from the provider's end-session page: check the logout's state.
  completeLogoutReturn(config, report)
  exchange = (href) => callbacks.exchange(href)

  const loginWithPopup = createPopupLogin({
    // As login(): after a sign-out, the provider's form unless a prompt is given.
    prepare: (opts) => prepareLogin(authorizeDeps, session.afterLogout() && opts.prompt === undefined ? { ...opts, prompt: 'login' } : opts),
    relay,
    handle: (href) => handleHere(href),
    discard: (state) => transactions.discard(state),
    idle: () => session.idle(),
  })
  /** The callback handled in this page. */
  const handleHere = (url: string | undefined) =>
    callbacks.handle(url).then((result) => {
      // A sign-in that asked for offline_access and got no refresh token is reported once.
      const problem = reported.has(result) ? undefined : missingRefreshToken(result.grant)
      reported.add(result)
      if (problem) report(problem)
      return result
    })
  /** Callbacks this page relayed to the page that started them (popup, iframe), by URL. */
  const relayed = new Map<string, Promise<RedirectResult>>()
  const handleRedirectCallback: OAuthClient['handleRedirectCallback'] = (url) => {
    const href = url ?? (typeof location === 'undefined' ? undefined : location.href)
    const known = href === undefined ? undefined : relayed.get(href)
    if (known) return known
    const forwarded = href === undefined ? undefined : relay.forward(href)
    if (!forwarded) return handleHere(url)
    const p = forwarded.then(
      async (result) => {
        // Nobody acknowledged (the starting page is gone): an ordinary redirect sign-in here.
        if (result === undefined) return handleHere(url)
        await finishRelayed()
        return result
      },
      async (e: unknown) => {
        await finishRelayed(e instanceof OAuthError ? e : undefined)
        throw e
      },
    )
    relayed.set(href!, p)
    return p
  }
  /** A relayed callback's page: settles its status and, when it is a popup, closes itself. */
  async function finishRelayed(error?: OAuthError): Promise<void> {
    await session.settle(undefined, error)
    if (typeof window !== 'undefined' && window.top === window) setTimeout(() => window.close(), 0)
  }

  const getAccessToken: OAuthClient['getAccessToken'] = (opts) => session.getAccessToken(opts)
  const stepUp = createStepUp({
    mode: config.stepUp,
    popup: (opts) => loginWithPopup(opts),
    redirect: (opts) => client.login(opts),
    currentScope: () => store.cachedSession()?.scope,
  })
  const authFetch = createAuthFetch({ config, getAccessToken: session.getAccessToken, dpop: dpopHandle, stepUp })

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

  if (silentSignIn && config.restoreOnLoad) {
    // A tab that signed out is not signed back in silently, also after a reload and with memory
    // storage (whose store keeps no signed-out mark): a mark of its own, no token, per tab.
    const noRestore = `oauth-spa:${config.namespace}:no-restore`
    emitter.on('logout', () => withWebStorage('sessionStorage', (s) => s.setItem(noRestore, '1')))
    emitter.on('login', () => withWebStorage('sessionStorage', (s) => s.removeItem(noRestore)))
    if (typeof location !== 'undefined' && !callbacks.isCallback()) restoreOnLoad(silentSignIn, () => withWebStorage('sessionStorage', (s) => s.getItem(noRestore) === '1') === true)
  }

  /** One silent sign-in before a page without a stored session reports `unauthenticated`. */
  function restoreOnLoad(silent: NonNullable<typeof silentSignIn>, signedOut: () => boolean): void {
    const token = session.hold()
    void (async () => {
      await session.ready
      // Under the refresh lock (one silent sign-in at a time across tabs), after another tab's.
      const data = session.afterLogout() || signedOut()
        ? undefined
        : await lock(`oauth-spa:${config.namespace}:refresh`, async () => ((await store.loadSession()) ? undefined : silent())).catch(() => undefined)
      if (data) await session.signIn(data).catch(() => session.settle(token))
      else await session.settle(token)
    })()
  }

  const client: OAuthClient = {
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
    loginWithPopup,
    handleRedirectCallback,
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
  return client
}
