/**
 * A scripted OpenID Provider and API for unit tests: a `fetch` stub that answers discovery, the
 * token, PAR and revocation endpoints and an API, records every request, and lets a test replace
 * any answer (garbage, 5xx, a hang, a crafted ID token). Navigations (`location.assign`) are
 * captured instead of followed. ID tokens carry a dummy signature: oauth4webapi does not verify
 * ID tokens received from the token endpoint (TLS authenticates the issuer), and this stub is for
 * logic only — the end-to-end suite runs against a real provider.
 */
import { vi } from 'vitest'
import type { LoginOptions, OAuthClient, OAuthClientOptions } from '../../../src/index.js'

export const ISSUER = 'https://op.example'
export const API = 'https://api.example'
export const APP = 'https://app.example'
export const CLIENT_ID = 'spa'

export const b64u = (value: unknown): string =>
  btoa(typeof value === 'string' ? value : JSON.stringify(value))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } })
}

/** An unsigned-but-shaped ID token. */
export function idToken(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'RS256', typ: 'JWT' }): string {
  return [b64u(header), b64u(claims), 'c2lnbmF0dXJl'].join('.')
}

export interface RecordedRequest {
  url: URL
  method: string
  /** The fetch redirect mode the request was sent with. */
  redirect: RequestRedirect
  headers: Headers
  body: string
}

type Handler = (req: RecordedRequest) => Response | Promise<Response>

export interface ScriptedProvider {
  requests: RecordedRequest[]
  navigations: string[]
  metadata: Record<string, unknown>
  /** Token responses are produced by this; replace it to script a scenario. */
  token: Handler
  /** API responses; default: 200 `{ ok: true }` when a Bearer/DPoP token is present. */
  api: Handler
  /** Counter used to mint distinct tokens. */
  issued: number
  sub: string
  clientId: string
  /** Requests to one endpoint path. */
  to(path: string): RecordedRequest[]
  lastAuthorization(): URL
  /** Default ID token claims for the pending login (nonce from the last authorization request). */
  claims(extra?: Record<string, unknown>): Record<string, unknown>
  /** A well-formed token response. */
  tokens(extra?: Record<string, unknown>): Record<string, unknown>
  restore(): void
}

export function installScriptedProvider(): ScriptedProvider {
  const navigations: string[] = []
  const assign = vi.spyOn(window.location, 'assign').mockImplementation((url: string | URL) => {
    navigations.push(String(url))
  })
  const p: ScriptedProvider = {
    requests: [],
    navigations,
    issued: 0,
    sub: 'alice',
    clientId: CLIENT_ID,
    metadata: {
      issuer: ISSUER,
      authorization_endpoint: `${ISSUER}/authorize`,
      token_endpoint: `${ISSUER}/token`,
      revocation_endpoint: `${ISSUER}/revoke`,
      end_session_endpoint: `${ISSUER}/logout`,
      pushed_authorization_request_endpoint: `${ISSUER}/par`,
      jwks_uri: `${ISSUER}/jwks`,
      response_types_supported: ['code'],
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256', 'ES256'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
      dpop_signing_alg_values_supported: ['ES256'],
    },
    to(path) {
      return this.requests.filter((r) => r.url.origin + r.url.pathname === `${ISSUER}${path}` || r.url.pathname === path)
    },
    lastAuthorization() {
      const url = [...navigations].reverse().find((u) => u.startsWith(`${ISSUER}/authorize`))
      if (url === undefined) throw new Error('no authorization request was made')
      return new URL(url)
    },
    claims(extra = {}) {
      const now = Math.floor(Date.now() / 1000)
      let nonce: string | null = null
      try {
        nonce = this.lastAuthorization().searchParams.get('nonce')
      } catch {
        // refresh without a prior login in this test
      }
      return { iss: ISSUER, sub: this.sub, aud: this.clientId, iat: now, exp: now + 300, ...(nonce ? { nonce } : {}), name: 'Alice', ...extra }
    },
    tokens(extra = {}) {
      this.issued++
      return {
        access_token: `at-${this.issued}`,
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: `rt-${this.issued}`,
        scope: 'openid profile offline_access',
        id_token: idToken(this.claims()),
        ...extra,
      }
    },
    token: () => json(p.tokens()),
    api: (req) => {
      const auth = req.headers.get('authorization')
      if (!auth) return new Response('no token', { status: 401, headers: { 'www-authenticate': 'Bearer realm="api"' } })
      return json({ ok: true, auth: auth.split(' ')[0] })
    },
    restore() {
      vi.useRealTimers()
      assign.mockRestore()
      vi.unstubAllGlobals()
    },
  }

  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init)
    const recorded: RecordedRequest = {
      url: new URL(request.url),
      method: request.method,
      redirect: request.redirect,
      headers: new Headers(request.headers),
      body: request.body === null ? '' : await request.text(),
    }
    p.requests.push(recorded)
    const signal = init?.signal ?? undefined
    if (signal?.aborted) throw signal.reason
    const answer = async (): Promise<Response> => {
      const { url } = recorded
      if (url.origin === ISSUER) {
        if (url.pathname === '/.well-known/openid-configuration') return json(p.metadata)
        if (url.pathname === '/token') return p.token(recorded)
        if (url.pathname === '/par') return json({ request_uri: 'urn:ietf:params:oauth:request_uri:abc', expires_in: 60 }, 201)
        if (url.pathname === '/revoke') return new Response(null, { status: 200 })
        if (url.pathname === '/hang') return new Promise<Response>(() => {})
        return json({ error: 'not_found' }, 404)
      }
      if (url.origin === API) return p.api(recorded)
      return json({ foreign: true, authorization: recorded.headers.get('authorization') })
    }
    // Honour the abort signal, as fetch does (the SDK's timeouts rely on it).
    if (!signal) return answer()
    return new Promise<Response>((resolve, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true })
      answer().then(resolve, reject)
    })
  })
  return p
}

/** Never answers (until aborted). */
export const hang: Handler = () => new Promise<Response>(() => {})

let n = 0
/** A fresh namespace per test: its own client id, so IndexedDB state never leaks between tests. */
export function uniqueClientId(): string {
  return `${CLIENT_ID}-${++n}-${Math.random().toString(36).slice(2, 8)}`
}

/** Options of a client for the scripted provider, with its own namespace. */
export function clientOptions(p: ScriptedProvider, extra: Partial<OAuthClientOptions> = {}): OAuthClientOptions {
  p.clientId = extra.clientId ?? uniqueClientId()
  return {
    issuer: ISSUER,
    clientId: p.clientId,
    redirectUri: `${APP}/callback`,
    postLogoutRedirectUri: `${APP}/`,
    resource: API,
    apiOrigins: [API],
    ...extra,
  }
}

/** Starts `login()` and resolves with the authorization URL it navigated to. */
export async function startLogin(auth: OAuthClient, p: ScriptedProvider, options?: LoginOptions): Promise<URL> {
  const before = p.navigations.length
  void auth.login(options)
  await vi.waitFor(() => {
    if (p.navigations.length === before) throw new Error('login has not navigated yet')
    // The sign-in code loads on first need: the first login of a test file waits for its import.
  }, { timeout: 10_000 })
  return p.lastAuthorization()
}

/** The callback URL the provider would redirect to for the last authorization request. */
export function callbackUrl(p: ScriptedProvider, params: Record<string, string> = {}): string {
  const auth = p.lastAuthorization()
  const url = new URL(`${APP}/callback`)
  url.searchParams.set('code', 'the-code')
  url.searchParams.set('state', auth.searchParams.get('state') ?? '')
  url.searchParams.set('iss', ISSUER)
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v)
  return url.href
}

/** A full sign-in: login, then the callback on the page's address bar. */
export async function signIn(auth: OAuthClient, p: ScriptedProvider, options?: LoginOptions) {
  await startLogin(auth, p, options)
  const url = callbackUrl(p)
  window.history.replaceState(null, '', url)
  return auth.handleRedirectCallback()
}

/**
 * Moves the clock (`Date` only; timers stay real) past every token's lifetime: what was issued so
 * far is expired, what is issued next is fresh. Undone by `restore()`.
 */
export function advanceClock(ms = 2 * 60 * 60 * 1000): void {
  const now = Date.now()
  vi.useFakeTimers({ toFake: ['Date'] })
  vi.setSystemTime(now + ms)
}
