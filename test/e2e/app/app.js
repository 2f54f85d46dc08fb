// The e2e test app: plain ESM, no build step, no inline script (the page runs under a strict CSP).
// The SDK is dist/index.js with its lazily loaded chunks (the static server points its bare imports
// at /vendor/), or with `sdkBuild: 'standalone'` in the served config the one-file build.
//
// Config: /app-config.json (served by the test's static server), overridden by the query string
// of the first page load (?dpop=1, ?storage=memory, ?leeway=5, ?scope=..., ?par=1, ?timeout=3).
// Overrides are kept in sessionStorage (they hold no token) so they survive the sign-in redirect.
// ?callback=manual (also kept): the app does not handle a callback by itself; the test does.
//
// Exposes for the tests: window.auth (the client), window.OAuthError, window.isOAuthError,
// window.__config, window.__events, window.__snapshots, window.__isCallback, window.__callback
// (a promise of { ok: true, returnTo, user } | { ok: false, code, message, error, ... }),
// window.e2e (small helpers returning plain data), and window.__ready = true once set up.
const OVERRIDES_KEY = 'oauth-spa-e2e:overrides'
const MANUAL_CALLBACK_KEY = 'oauth-spa-e2e:manual-callback'
const EVENTS = ['login', 'logout', 'token_refreshed', 'session_expired', 'storage_fallback', 'error']

window.__events = []
window.__snapshots = []

function errorInfo(e) {
  if (e === undefined || e === null) return e
  return {
    name: e.name,
    code: e.code,
    message: e.message,
    error: e.error,
    errorDescription: e.errorDescription,
    status: e.status,
    isOAuthError: typeof window.isOAuthError === 'function' ? window.isOAuthError(e) : undefined,
  }
}

function plain(value) {
  if (value === undefined) return undefined
  try {
    return JSON.parse(JSON.stringify(value, (_k, v) => (v instanceof Error ? errorInfo(v) : v)))
  } catch {
    return String(value)
  }
}

function queryOverrides(search) {
  const q = new URLSearchParams(search)
  const o = {}
  if (q.has('dpop')) o.dpop = q.get('dpop') === '1' || q.get('dpop') === 'true'
  if (q.has('storage')) o.storage = q.get('storage')
  if (q.has('leeway')) o.refreshLeewaySeconds = Number(q.get('leeway'))
  if (q.has('scope')) o.scope = q.get('scope')
  if (q.has('par')) o.pushedAuthorizationRequests = q.get('par') === '1'
  if (q.has('timeout')) o.requestTimeoutSeconds = Number(q.get('timeout'))
  return o
}

function loadOverrides() {
  const fromQuery = queryOverrides(location.search)
  let saved = {}
  try {
    saved = JSON.parse(sessionStorage.getItem(OVERRIDES_KEY) ?? '{}')
  } catch {
    saved = {}
  }
  if (Object.keys(fromQuery).length) {
    saved = { ...saved, ...fromQuery }
    sessionStorage.setItem(OVERRIDES_KEY, JSON.stringify(saved))
  }
  return saved
}

function render() {
  const snap = window.auth.getSnapshot()
  document.getElementById('status').textContent = snap.status
  document.getElementById('user').textContent = snap.user?.sub ?? ''
  document.getElementById('path').textContent = location.pathname
  document.getElementById('error').textContent = snap.error ? `${snap.error.code}: ${snap.error.message}` : ''
}

async function main() {
  const response = await fetch('/app-config.json', { cache: 'no-store' })
  const { sdkBuild, ...served } = await response.json()
  // 'esm' (default): dist/index.js and the chunks it loads on first need, as a bundler ships them;
  // 'standalone': the one-file build with every part inlined.
  const sdk = await import(sdkBuild === 'standalone' ? '/dist/oauth-spa.standalone.min.js' : '/dist/index.js')
  window.OAuthError = sdk.OAuthError
  window.isOAuthError = sdk.isOAuthError

  const config = { ...served, ...loadOverrides() }
  window.__config = config

  const auth = sdk.createOAuthClient(config)
  window.auth = auth

  for (const name of EVENTS) {
    auth.on(name, (payload) => {
      window.__events.push({ name, at: Date.now(), payload: plain(payload) })
    })
  }
  const record = () => {
    const snap = auth.getSnapshot()
    window.__snapshots.push({ at: Date.now(), status: snap.status, sub: snap.user?.sub, error: errorInfo(snap.error) })
    render()
  }
  auth.subscribe(record)
  record()

  window.e2e = {
    errorInfo,
    /** auth.fetch, returning plain data (never throws). */
    async call(url, init) {
      try {
        const r = await auth.fetch(url, init)
        const text = await r.text()
        let body
        try {
          body = JSON.parse(text)
        } catch {
          body = text
        }
        return { ok: true, status: r.status, body, redirected: r.redirected, url: r.url, type: r.type, wwwAuthenticate: r.headers.get('www-authenticate') }
      } catch (e) {
        return { ok: false, error: errorInfo(e) }
      }
    },
    /** auth.getAccessToken, returning plain data (never throws). */
    async token(opts) {
      try {
        return { ok: true, token: await auth.getAccessToken(opts) }
      } catch (e) {
        return { ok: false, error: errorInfo(e) }
      }
    },
    /** handleRedirectCallback, returning plain data (never throws). */
    async handleCallback(url) {
      try {
        const r = await auth.handleRedirectCallback(url)
        return { ok: true, returnTo: r.returnTo, user: plain(r.user) ?? null, href: location.href }
      } catch (e) {
        return { ok: false, ...errorInfo(e), href: location.href }
      }
    },
    /** auth.loginWithPopup, returning plain data (never throws). */
    async popup(opts) {
      try {
        const r = await auth.loginWithPopup(opts)
        return { ok: true, returnTo: r.returnTo, user: plain(r.user) ?? null }
      } catch (e) {
        return { ok: false, error: errorInfo(e) }
      }
    },
    /** readChallenge of an auth.fetch answer (plain data, never throws). */
    async challenge(url, init) {
      try {
        const r = await auth.fetch(url, init)
        return { ok: true, status: r.status, challenge: plain(await sdk.readChallenge(r)) ?? null }
      } catch (e) {
        return { ok: false, error: errorInfo(e) }
      }
    },
    snapshot() {
      const s = auth.getSnapshot()
      return { status: s.status, user: plain(s.user), error: errorInfo(s.error) }
    },
  }

  const q = new URLSearchParams(location.search)
  if (q.has('callback')) sessionStorage.setItem(MANUAL_CALLBACK_KEY, q.get('callback'))
  window.__manualCallback = sessionStorage.getItem(MANUAL_CALLBACK_KEY) === 'manual'

  // A button whose click (a user gesture) starts loginWithPopup with window.__popupOptions;
  // its outcome lands in window.__popup.
  const button = document.createElement('button')
  button.id = 'popup-login'
  button.type = 'button'
  button.textContent = 'Sign in (popup)'
  button.addEventListener('click', () => {
    window.__popup = window.e2e.popup(window.__popupOptions)
  })
  document.body.append(button)

  window.__isCallback = auth.isRedirectCallback()
  if (window.__isCallback && !window.__manualCallback) {
    window.__callback = window.e2e.handleCallback()
    window.__callback.then(render)
  }
  window.__ready = true
}

main().catch((e) => {
  window.__appError = { message: String(e?.message ?? e), stack: String(e?.stack ?? '') }
  const el = document.getElementById('error')
  if (el) el.textContent = `app failed to start: ${window.__appError.message}`
})
