// Starts a real Better Auth server (npm `better-auth` with `@better-auth/oauth-provider` and its
// JWT plugin) on 127.0.0.1 and a free port, in memory (no database file), as an application
// would deploy it: Better Auth's own handler under /api/auth, and the login page that its OAuth
// provider plugin requires the deployer to supply (`loginPage`): a plain form that signs in with
// Better Auth's email/password endpoint and continues the authorization with the signed query.
//
//   const op = await startBetterAuth({ redirectUris, postLogoutRedirectUris })
//   op.issuer  → `${origin}/api/auth`
//
// Token values are never printed.
import { randomBytes } from 'node:crypto'
import http from 'node:http'

import { oauthProvider } from '@better-auth/oauth-provider'
import { betterAuth } from 'better-auth'
import { memoryAdapter } from 'better-auth/adapters/memory'
import { toNodeHandler } from 'better-auth/node'
import { jwt } from 'better-auth/plugins'

import { startProviderStack } from './stack.mjs'
import { startUserInfoApi } from './userinfo-api.mjs'

export const BETTER_AUTH_USERS = [{ email: 'alice@example.com', password: 'wonderland-1', name: 'Alice Liddell' }]

const LOGIN_PAGE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in</title><script type="module" src="/login.js"></script></head>
<body><h1>Sign in</h1>
<form id="login"><label>E-mail <input name="email" type="email" autocomplete="username"></label>
<label>Password <input name="password" type="password" autocomplete="current-password"></label>
<button id="submit" type="submit">Sign in</button></form><p id="message"></p></body></html>`

// The login page's script: Better Auth's email sign-in, with the signed authorization query the
// provider plugin appended to this page's URL; the answer says where to continue.
const LOGIN_SCRIPT = `
document.getElementById('login').addEventListener('submit', async (event) => {
  event.preventDefault()
  const form = new FormData(event.target)
  const res = await fetch('/api/auth/sign-in/email', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: form.get('email'), password: form.get('password'), oauth_query: location.search.slice(1) }),
  })
  const body = await res.json().catch(() => ({}))
  if (!res.ok) { document.getElementById('message').textContent = body.message ?? 'sign-in failed'; return }
  const next = body.url ?? body.redirect_uri ?? body.redirectURI
  if (typeof next === 'string') location.assign(next)
  else document.getElementById('message').textContent = 'signed in'
})
`

/**
 * @param {object} options
 * @param {string[]} options.redirectUris
 * @param {string[]} [options.postLogoutRedirectUris]
 * @param {object} [options.provider] extra oauthProvider() options
 * @param {string[]} [options.corsOrigins] origins allowed to call the OAuth endpoints from a page
 */
export async function startBetterAuth(options) {
  const server = http.createServer()
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', resolve)
  })
  const origin = `http://127.0.0.1:${server.address().port}`
  const db = {}
  const auth = betterAuth({
    baseURL: origin,
    secret: randomBytes(32).toString('base64url'),
    database: memoryAdapter(db),
    emailAndPassword: { enabled: true },
    trustedOrigins: options.trustedOrigins ?? [],
    // The OAuth provider plugin's token endpoint replaces Better Auth's own /token.
    disabledPaths: ['/token'],
    logger: { disabled: true },
    plugins: [
      jwt(),
      oauthProvider({
        loginPage: '/login',
        consentPage: '/consent',
        silenceWarnings: { oauthAuthServerConfig: true, openidConfig: true },
        ...options.provider,
      }),
    ],
  })
  const handler = toNodeHandler(auth)
  const stats = { token: 0, revoke: 0, endSession: 0, userinfo: 0 }
  const endSessionRequests = []
  server.on('request', (req, res) => {
    const url = new URL(req.url, origin)
    if (url.pathname === '/login') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
      res.end(LOGIN_PAGE)
      return
    }
    if (url.pathname === '/login.js') {
      res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' })
      res.end(LOGIN_SCRIPT)
      return
    }
    // Better Auth sends no CORS headers for its OAuth endpoints: the deployer adds them (here for
    // the SPA's origin only), as a framework's CORS middleware would.
    const from = req.headers.origin
    if (from && (options.corsOrigins ?? []).includes(from) && url.pathname.startsWith('/api/auth/')) {
      res.setHeader('access-control-allow-origin', from)
      res.setHeader('vary', 'origin')
      res.setHeader('access-control-expose-headers', 'www-authenticate, dpop-nonce')
      if (req.method === 'OPTIONS') {
        res.writeHead(204, {
          'access-control-allow-methods': 'GET, POST',
          'access-control-allow-headers': req.headers['access-control-request-headers'] ?? 'content-type',
          'access-control-max-age': '600',
        })
        res.end()
        return
      }
    }
    if (url.pathname === '/api/auth/oauth2/token') stats.token++
    if (url.pathname === '/api/auth/oauth2/revoke') stats.revoke++
    if (url.pathname === '/api/auth/oauth2/end-session') {
      stats.endSession++
      // What the RP sent (id_token_hint, state, …), for suites whose engine cannot watch requests.
      endSessionRequests.push(Object.fromEntries(url.searchParams))
    }
    if (url.pathname === '/api/auth/oauth2/userinfo') stats.userinfo++
    handler(req, res)
  })

  try {
    // The memory adapter keeps one array per model; it expects them to exist.
    const context = await auth.$context
    for (const table of Object.values(context.tables)) db[table.modelName] ??= []
    for (const user of BETTER_AUTH_USERS) await auth.api.signUpEmail({ body: user })
    // Registering a client needs a signed-in user (its owner): the first one, through the API.
    const signedIn = await auth.api.signInEmail({ body: { email: BETTER_AUTH_USERS[0].email, password: BETTER_AUTH_USERS[0].password }, returnHeaders: true })
    const cookie = signedIn.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ')
    const client = await auth.api.adminCreateOAuthClient({
      headers: new Headers({ cookie }),
      body: {
        client_name: 'oauth-spa e2e',
        redirect_uris: options.redirectUris,
        post_logout_redirect_uris: options.postLogoutRedirectUris ?? [],
        token_endpoint_auth_method: 'none',
        // Its "web" clients need https redirect URIs on non-loopback hosts; the suite's app lives on
        // http://127.0.0.1, which it only allows to "native" clients. (A deployed SPA is "web".)
        application_type: 'native',
        grant_types: ['authorization_code', 'refresh_token'],
        response_types: ['code'],
        skip_consent: true,
        enable_end_session: true,
      },
    })
    return {
      origin,
      issuer: `${origin}/api/auth`,
      clientId: client.client_id,
      jwksUri: `${origin}/api/auth/jwks`,
      users: BETTER_AUTH_USERS,
      stats,
      /** The query of each end-session request it received, in order (values kept in memory only). */
      endSessionRequests,
      async close() {
        server.closeAllConnections?.()
        await new Promise((resolve) => server.close(resolve))
      },
    }
  } catch (e) {
    server.closeAllConnections?.()
    server.close()
    throw e
  }
}

/**
 * The stack of the Better Auth specs and engine suites, engine-neutral: the e2e test app with
 * `userInfo: true` (Better Auth puts name/email only in UserInfo), Better Auth registered for that
 * app (redirect, post-logout URI, trusted and CORS origin), and an API that validates its opaque
 * access tokens at its UserInfo endpoint. `stack.clientId` is the client Better Auth registered.
 * Everything on 127.0.0.1 and free ports, stopped by `stack.close()`.
 *
 * @param {object} [options]
 * @param {object} [options.appConfig] client options merged into /app-config.json
 */
export async function startBetterAuthStack({ appConfig } = {}) {
  const stack = await startProviderStack({
    startOp: (app) =>
      startBetterAuth({ redirectUris: [app.redirectUri], postLogoutRedirectUris: [app.postLogoutRedirectUri], trustedOrigins: [app.origin], corsOrigins: [app.origin] }),
    startApi: (op, app) => startUserInfoApi({ userinfoEndpoint: `${op.issuer}/oauth2/userinfo`, allowedOrigins: [app.origin] }),
    appConfig: { userInfo: true, ...appConfig },
  })
  stack.clientId = stack.provider.clientId
  return stack
}
