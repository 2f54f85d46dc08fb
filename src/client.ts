/**
 * `createOAuthClient`: wires the redirect manager, the token store, the session and the fetch
 * wrapper together. Synchronous and cheap: discovery happens on first need, IndexedDB opens in
 * the background, and the parts a signed-in page may never use (sign-in and logout flows, the
 * refresh grant, DPoP, challenge parsing: everything that needs oauth4webapi) load on first need.
 *
 * @module
 */
import { resolveConfig } from './config.js'
import type { DpopKeys } from './dpop/keys.js'
import { OAuthError } from './errors.js'
import { createAuthFetch } from './fetch/auth-fetch.js'
import { once } from './lazy.js'
import { redact } from './provider/redact.js'
import { createCallbackDetector, logoutPendingKey } from './redirect/detect.js'
import type { Flows } from './redirect/flows.js'
import { openPopup, type OpenedPopup } from './redirect/popup-window.js'
import { registerRedirectIssuer } from './redirect/redirect-issuers.js'
import { openTabChannel } from './session/channel.js'
import { createEmitter } from './session/events.js'
import { createLock, warmLocks } from './session/lock.js'
import { createSession, endsSession, refreshCeilingMs } from './session/session.js'
import { createSnapshotStore } from './session/snapshot.js'
import { openStorage } from './store/open-storage.js'
import { withWebStorage } from './store/web-storage.js'
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

  const backend = openStorage(config.storage, config.namespace, (cause) => {
    const error = new OAuthError('storage_error', 'IndexedDB is unavailable: the session is kept in memory only and ends with this page', {
      cause: redact(cause),
    })
    // Asynchronous, so a listener attached right after createOAuthClient sees it.
    setTimeout(() => emitter.emit('storage_fallback', { error }), 0)
  }, () => session.resync())
  const store = createTokenStore(backend, config.namespace)
  const lock = createLock()
  const detector = createCallbackDetector(config, (state) => flows().then((f) => f.hasTransaction(state)))
  // Registered now, not when the callback code loads: clients of different issuers that share a
  // redirect URI must know of each other before any callback is handled (RFC 9700 §4.4).
  const redirectIssuers = registerRedirectIssuer(config)
  const report = (error: OAuthError) => emitter.emit('error', { error })

  // The parts loaded on first need: the protocol code (oauth4webapi: discovery, grants, DPoP,
  // challenges) and the sign-in / sign-out flows on top of it.
  const protocol = once(() => import('./provider/protocol.js'))
  let dpopKeysLoaded: DpopKeys | undefined
  const parts = once(async () => {
    const m = await protocol()
    dpopKeysLoaded ??= m.createDpopKeys(backend, config.namespace, lock)
    return { m, provider: m.createProvider(config), dpopKeys: dpopKeysLoaded }
  })
  let flowsLoaded: Flows | undefined
  const flows = once(async () => {
    const [{ createFlows }, { provider, dpopKeys }] = await Promise.all([import('./redirect/flows.js'), parts()])
    return (flowsLoaded ??= createFlows({ config, provider, backend, session, store, dpopKeys, detector, redirectIssuers, report, navigate }))
  })

  /** The session's DPoP handle. Tokens bound to a lost key cannot be used: the session ends, in every tab. */
  const dpopHandle = async () => {
    if (!config.dpop) return undefined
    const handle = await (await parts()).dpopKeys.handle(false)
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
      const [{ m, provider }, dpop] = await Promise.all([parts(), dpopHandle()])
      try {
        return await m.refreshTokens(provider, { refreshToken, ...request, session: current, dpop, timeoutMs: refreshCeilingMs(config), userInfo: config.userInfo })
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
    renew: config.silentRenew === 'iframe' ? async (reason) => (await flows()).silent!(reason) : undefined,
    loadRefresher: async () => (await protocol()).createRefresher,
  })
  session.onEnd(() => dpopKeysLoaded?.forget())

  // Back from the provider's end-session page with a logout pending: check its state.
  if (withWebStorage('sessionStorage', (s) => s.getItem(logoutPendingKey(config.namespace))) != null) {
    void flows().then((f) => f.completeLogoutReturn(), () => undefined)
  }

  // On the redirect URI with a callback, the status stays `loading` until it is handled.
  if (typeof location !== 'undefined' && detector.pendingState() !== undefined) {
    // handleRedirectCallback takes the hold over until it settles; an app that never calls it gets
    // its status after 10 s, and at once when the callback is another client's (same redirect URI).
    const token = session.hold()
    // The sign-in is stored under the refresh lock once the code is redeemed: connect to the lock
    // manager now, while discovery and the token request are on the network.
    warmLocks()
    setTimeout(() => void session.settle(token), 10_000)
    void detector.owns().then((mine) => {
      if (!mine) void session.settle(token)
    })
    // The app is about to handle it: load the callback code now.
    void flows().catch(() => undefined)
  }

  /**
   * Set while logout() is on its way to the provider's end-session page: the snapshot already says
   * `unauthenticated`, and a route guard reacting to it must not start a sign-in that races the
   * logout navigation (the provider, its session still alive, would sign the user straight back in).
   */
  let leaving = false
  if (config.silentRenew === 'iframe' && config.restoreOnLoad) {
    // A tab that signed out is not signed back in silently, also after a reload and with memory
    // storage (whose store keeps no signed-out mark): a mark of its own, no token, per tab.
    const noRestore = `oauth-spa:${config.namespace}:no-restore`
    emitter.on('logout', () => withWebStorage('sessionStorage', (s) => s.setItem(noRestore, '1')))
    emitter.on('login', () => withWebStorage('sessionStorage', (s) => s.removeItem(noRestore)))
    if (typeof location !== 'undefined' && detector.pendingState() === undefined) {
      restoreOnLoad(() => withWebStorage('sessionStorage', (s) => s.getItem(noRestore) === '1') === true)
    }
  }

  /** One silent sign-in before a page without a stored session reports `unauthenticated`. */
  function restoreOnLoad(signedOut: () => boolean): void {
    const token = session.hold()
    void (async () => {
      await session.ready
      // Under the refresh lock (one silent sign-in at a time across tabs), after another tab's.
      const data = session.afterLogout() || signedOut()
        ? undefined
        : await lock(`oauth-spa:${config.namespace}:refresh`, async () => ((await store.loadSession()) ? undefined : (await flows()).silent!())).catch(() => undefined)
      if (data) await session.signIn(data).catch(() => session.settle(token))
      else await session.settle(token)
    })()
  }

  /** Runs a popup sign-in in a window opened in the caller's gesture. */
  const popupIn = (opened: OpenedPopup) =>
    flows().then(
      (f) => f.popup(opened),
      (e: unknown) => {
        try {
          opened.win.close()
        } catch {
          // gone already
        }
        throw e
      },
    )

  const stepUp =
    config.stepUp === 'none'
      ? undefined
      : once(async () =>
          (await protocol()).createStepUp({
            mode: config.stepUp,
            popup: (opts) => client.loginWithPopup(opts),
            redirect: (opts) => client.login(opts),
            currentScope: () => store.cachedSession()?.scope,
          }),
        )
  const authFetch = createAuthFetch({
    config,
    getAccessToken: session.getAccessToken,
    dpopSend: config.dpop
      ? async (token, method, url, headers, body, signal, fetch) => {
          const [{ m }, dpop] = await Promise.all([parts(), dpopHandle()])
          return m.dpopResourceRequest(token, method, url, headers, body, { dpop: dpop!, signal, allowInsecure: config.allowInsecureRequests, fetch })
        }
      : undefined,
    // A challenge that cannot be read (the parser could not be loaded) leaves the response as it came.
    challenges: (response) => protocol().then((m) => m.parseChallenges(response.headers.get('www-authenticate') ?? ''), () => undefined),
    stepUp,
    report,
  })

  const client: OAuthClient = {
    async login(opts) {
      // A logout of this page may still be wiping the store: the new transaction (and DPoP key)
      // must not be wiped with the old session.
      await session.idle()
      if (leaving) return new Promise<never>(() => {})
      // After a sign-out (here, in another open tab, or in this tab before a reload) the provider's
      // session may still be alive: the flows ask for its form, so that a route guard cannot sign
      // the user straight back in.
      return (await flows()).login(opts)
    },
    loginWithPopup(opts) {
      // Synchronously, in the caller's gesture: nothing is stored before the window exists.
      let opened: OpenedPopup
      try {
        opened = openPopup(opts)
      } catch (e) {
        return Promise.reject(e)
      }
      return popupIn(opened)
    },
    handleRedirectCallback(url) {
      if (flowsLoaded) return flowsLoaded.handleRedirectCallback(url)
      return flows().then(
        (f) => f.handleRedirectCallback(url),
        async (e: unknown) => {
          // The callback code could not be loaded: the held status settles with the error; the
          // transaction is untouched, so a retry (or a reload) can still complete the sign-in.
          await session.settle(undefined, e as OAuthError)
          throw e
        },
      )
    },
    isRedirectCallback: (url) => (flowsLoaded ? flowsLoaded.isCallback(url) : detector.pendingState(url) !== undefined),
    getAccessToken: (opts) => session.getAccessToken(opts),
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
    async logout(options) {
      // Bad options never stop a logout (the user asked to sign out): reported, and ignored.
      let opts = options
      if (opts !== undefined && (typeof opts !== 'object' || opts === null)) {
        report(new OAuthError('configuration_error', 'logout: options must be an object ({ returnTo?, localOnly? }); they were ignored'))
        opts = undefined
      }
      let navigated = false
      leaving = opts?.localOnly !== true || opts.returnTo !== undefined
      const leave = (url: string) => {
        navigated = true
        navigate(url)
      }
      try {
        // The local session ends first, before the logout code loads: a login() called right after
        // logout() waits for this wipe (session.idle()), and an offline page still signs out.
        const signedOut = session.signOut()
        let f: Flows
        try {
          f = await flows()
        } catch (e) {
          // The logout code could not be loaded (offline): the local session ends all the same.
          const { error } = await signedOut
          if (error) report(error)
          report(e as OAuthError)
          return
        }
        await f.logout(opts, leave, signedOut)
      } finally {
        // Stays set only when the page is actually leaving.
        leaving = navigated
      }
    },
  }
  return client
}
