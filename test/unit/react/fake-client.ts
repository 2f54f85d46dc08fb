/**
 * A small in-memory `OAuthClient` for the React tests: no network, no storage. Its
 * `handleRedirectCallback` dedupes like the core (one promise per URL within a page) and counts the
 * token exchanges it really performed.
 */
import { OAuthError } from '../../../src/errors.js'
import type {
  PopupLoginOptions,
  AuthSnapshot,
  GetAccessTokenOptions,
  LoginOptions,
  LogoutOptions,
  OAuthClient,
  OAuthEvent,
  OAuthEventMap,
  RedirectResult,
  User,
} from '../../../src/types.js'

export interface FakeClientOptions {
  /** Initial snapshot. Default `{ status: 'loading' }`. */
  initial?: AuthSnapshot
  /** The user a callback signs in. */
  user?: User
  /** `returnTo` a callback resolves with. Default `'/'`. */
  returnTo?: string
  /** Make the callback fail with this error. */
  callbackError?: unknown
  /** Make `login()` reject with this error instead of "leaving the page" (never settling). */
  loginError?: unknown
  /** Path of the redirect URI. Default `'/callback'`. */
  callbackPath?: string
  /** `appState` a callback resolves with. */
  appState?: unknown
  /** What `getIdToken()` resolves with while authenticated. */
  idToken?: string
}

export class FakeClient implements OAuthClient {
  /** Token requests made by `handleRedirectCallback` (at most one per callback URL). */
  tokenExchanges = 0
  /** Calls of `handleRedirectCallback`, deduplicated or not. */
  callbackCalls = 0
  readonly loginCalls: (LoginOptions | undefined)[] = []
  readonly logoutCalls: (LogoutOptions | undefined)[] = []
  readonly fetchCalls: [RequestInfo | URL, RequestInit | undefined][] = []

  #snapshot: AuthSnapshot
  readonly #listeners = new Set<() => void>()
  readonly #callbacks = new Map<string, Promise<RedirectResult>>()
  readonly #options: FakeClientOptions

  constructor(options: FakeClientOptions = {}) {
    this.#options = options
    this.#snapshot = Object.freeze({ ...(options.initial ?? { status: 'loading' }) })
  }

  /** Number of current subscribers. */
  get listenerCount(): number {
    return this.#listeners.size
  }

  /** Replaces the snapshot and notifies subscribers (as a change from another tab would). */
  setSnapshot = (snapshot: AuthSnapshot): void => {
    this.#snapshot = Object.freeze({ ...snapshot })
    for (const listener of [...this.#listeners]) listener()
  }

  login = (options?: LoginOptions): Promise<never> => {
    this.loginCalls.push(options)
    if (this.#options.loginError !== undefined) return Promise.reject(this.#options.loginError)
    return new Promise<never>(() => {})
  }

  readonly popupCalls: (PopupLoginOptions | undefined)[] = []

  loginWithPopup = (options?: PopupLoginOptions): Promise<RedirectResult> => {
    this.popupCalls.push(options)
    return Promise.resolve({ returnTo: '/', user: { sub: 'popup-user' } })
  }

  isRedirectCallback = (url: string = window.location.href): boolean => {
    const parsed = new URL(url)
    return (
      parsed.pathname === (this.#options.callbackPath ?? '/callback') &&
      parsed.searchParams.has('state') &&
      (parsed.searchParams.has('code') || parsed.searchParams.has('error')) &&
      !this.#callbacks.has(url)
    )
  }

  handleRedirectCallback = (url: string = window.location.href): Promise<RedirectResult> => {
    this.callbackCalls++
    const existing = this.#callbacks.get(url)
    if (existing !== undefined) return existing
    const promise = (async (): Promise<RedirectResult> => {
      await Promise.resolve()
      this.tokenExchanges++
      await new Promise((resolve) => setTimeout(resolve, 5))
      // Like the core: strip the authorization response from the address bar.
      const stripped = new URL(url)
      for (const name of ['code', 'state', 'iss', 'error', 'error_description'])
        stripped.searchParams.delete(name)
      window.history.replaceState(null, '', stripped.pathname + stripped.search + stripped.hash)
      if (this.#options.callbackError !== undefined) {
        this.setSnapshot({ status: 'unauthenticated' })
        throw this.#options.callbackError
      }
      const user = this.#options.user ?? { sub: 'user-1', name: 'Ada' }
      this.setSnapshot({ status: 'authenticated', user })
      return { returnTo: this.#options.returnTo ?? '/', user, grant: { requestedScope: 'openid', grantedScope: 'openid', refreshToken: true }, appState: this.#options.appState }
    })()
    this.#callbacks.set(url, promise)
    return promise
  }

  getAccessToken = (_options?: GetAccessTokenOptions): Promise<string> =>
    this.#snapshot.status === 'authenticated'
      ? Promise.resolve('access-token')
      : Promise.reject(new OAuthError('login_required', 'No session.'))

  fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    this.fetchCalls.push([input, init])
    return Promise.resolve(new Response('ok'))
  }

  getUser = (): User | undefined => this.#snapshot.user

  getIdToken = (): Promise<string | undefined> =>
    Promise.resolve(this.#snapshot.status === 'authenticated' ? this.#options.idToken : undefined)

  getSnapshot = (): AuthSnapshot => this.#snapshot

  subscribe = (listener: () => void): (() => void) => {
    this.#listeners.add(listener)
    return () => {
      this.#listeners.delete(listener)
    }
  }

  on = <E extends OAuthEvent>(_event: E, _listener: (payload: OAuthEventMap[E]) => void): (() => void) => {
    return () => {}
  }

  logout = (options?: LogoutOptions): Promise<void> => {
    this.logoutCalls.push(options)
    this.setSnapshot({ status: 'unauthenticated' })
    return Promise.resolve()
  }
}

/** Puts happy-dom's address bar on `path` (same origin). */
export function setLocation(path: string): void {
  window.history.replaceState(null, '', path)
}
