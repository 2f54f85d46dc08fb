// The app the provider recipes are proven with: the client options come from /app-config.json
// (the recipe under test, as docs/providers/<name>.md writes it), nothing else. Exposes
// window.auth, window.__events and window.e2e (plain-data wrappers) and, on the redirect URI,
// window.__callback = { ok, returnTo, user, grant } | { ok: false, code, message }.
const EVENTS = ['login', 'logout', 'token_refreshed', 'session_expired', 'storage_fallback', 'error']
window.__events = []

const info = (e) => (e ? { code: e.code, message: e.message, error: e.error, status: e.status } : e)
const plain = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v, (_k, x) => (x instanceof Error ? info(x) : x))))

async function main() {
  const sdk = await import('/dist/oauth-spa.standalone.min.js')
  const config = await (await fetch('/app-config.json', { cache: 'no-store' })).json()
  const auth = sdk.createOAuthClient(config)
  window.auth = auth
  for (const name of EVENTS) auth.on(name, (payload) => window.__events.push({ name, payload: plain(payload) }))
  auth.subscribe(() => (document.getElementById('status').textContent = auth.getSnapshot().status))

  window.e2e = {
    async call(url) {
      try {
        const r = await auth.fetch(url)
        return { ok: true, status: r.status, body: await r.json().catch(() => null) }
      } catch (e) {
        return { ok: false, error: info(e) }
      }
    },
    async token(opts) {
      try {
        return { ok: true, token: await auth.getAccessToken(opts) }
      } catch (e) {
        return { ok: false, error: info(e) }
      }
    },
    snapshot() {
      const s = auth.getSnapshot()
      return { status: s.status, user: plain(s.user), error: info(s.error) }
    },
  }
  if (auth.isRedirectCallback()) {
    window.__callback = auth.handleRedirectCallback().then(
      (r) => ({ ok: true, returnTo: r.returnTo, user: plain(r.user), grant: plain(r.grant) }),
      (e) => ({ ok: false, ...info(e) }),
    )
  }
  window.__ready = true
}

main().catch((e) => {
  window.__appError = { message: String(e?.message ?? e) }
})
