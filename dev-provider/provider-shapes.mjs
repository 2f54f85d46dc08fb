// Provider-shaped behaviour on the raw HTTP exchange around oidc-provider, so that the recipes in
// docs/providers/ are proven against the quirks of real providers: no RFC 9207 `iss` (Entra ID),
// a rewritten or relocated discovery document, a logout URL outside discovery (Auth0, Cognito),
// offline_access without a consent prompt (Okta), and a sign-in page that refuses framing.
import { page, sendHtml } from './pages.mjs'
import { escapeHtml } from './util.mjs'

/** Answers an authorization request loaded in a frame with a page that refuses framing. */
export function refuseFrame(res) {
  res.writeHead(200, {
    'Content-Type': 'text/html; charset=utf-8',
    'X-Frame-Options': 'DENY',
    'Content-Security-Policy': "frame-ancestors 'none'",
    'Cache-Control': 'no-store',
  })
  res.end(page('Sign in', '<p>This page cannot be shown in a frame.</p>'))
}

/** Removes `iss` from a redirect that carries an authorization response (code or error, with state). */
export function stripIss(res) {
  const setHeader = res.setHeader.bind(res)
  res.setHeader = (name, value) => {
    if (String(name).toLowerCase() === 'location' && typeof value === 'string') {
      try {
        const url = new URL(value)
        if (url.searchParams.has('state') && (url.searchParams.has('code') || url.searchParams.has('error'))) {
          url.searchParams.delete('iss')
          value = url.href
        }
      } catch {
        // a relative Location: not an authorization response
      }
    }
    return setHeader(name, value)
  }
}

/** The discovery document as oidc-provider answers it (through `callback`), rewritten by `discovery.transform`. */
export function serveDiscovery(req, res, path, { discovery, log, callback }) {
  const originalUrl = req.url
  req.url = '/.well-known/openid-configuration'
  const end = res.end.bind(res)
  res.end = (chunk, ...rest) => {
    if (res.statusCode !== 200 || chunk === undefined) return end(chunk, ...rest)
    const doc = JSON.parse(Buffer.isBuffer(chunk) ? chunk.toString('utf8') : String(chunk))
    const body = JSON.stringify(discovery.transform ? discovery.transform(doc) : doc)
    res.setHeader('Content-Length', Buffer.byteLength(body))
    log('discovery', { path, url: originalUrl })
    return end(body)
  }
  callback(req, res)
}

/** A logout URL outside discovery: client_id and the return URL are checked, the provider session ends. */
export async function handleCustomLogout(req, res, { origin, customLogout, clients, provider, stats, log }) {
  const url = new URL(req.url, origin)
  const clientId = url.searchParams.get('client_id')
  const returnTo = url.searchParams.get(customLogout.returnToParam)
  const client = clients.find((c) => c.clientId === clientId)
  const entry = { at: Date.now(), clientId, returnTo, params: [...url.searchParams.keys()], sessionEnded: false }
  stats.customLogouts.push(entry)
  if (!client || !returnTo || !(client.postLogoutRedirectUris ?? []).includes(returnTo)) {
    entry.refused = true
    sendHtml(res, 400, page('Error', `<pre id="error">invalid_request</pre><pre id="error-description">unknown client or ${escapeHtml(customLogout.returnToParam)} not allowed</pre>`))
    return
  }
  const session = await provider.Session.get({ req, res })
  if (session.accountId) {
    await session.destroy()
    entry.sessionEnded = true
  }
  log('custom_logout', { clientId, sessionEnded: entry.sessionEnded })
  res.statusCode = 302
  res.setHeader('Location', returnTo)
  res.end()
}

/** Okta grants offline_access without a consent prompt; oidc-provider drops it without one: add prompt=consent. */
export function addConsentForOffline(req, origin) {
  const url = new URL(req.url, origin)
  if (String(url.searchParams.get('scope') ?? '').split(' ').includes('offline_access')) {
    const prompts = new Set(String(url.searchParams.get('prompt') ?? '').split(' ').filter(Boolean))
    if (!prompts.has('none')) {
      prompts.add('consent')
      url.searchParams.set('prompt', [...prompts].join(' '))
      req.url = `${url.pathname}${url.search}`
    }
  }
}
