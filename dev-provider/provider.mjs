// A local OpenID Provider (oidc-provider v9) for the demo, the end-to-end tests and
// `npx oauth-spa dev-provider` (shipped with the package; oidc-provider and jose are optional peers).
//
// Everything listens on 127.0.0.1 only, loads nothing from the internet (the default
// oidc-provider pages that pull web fonts are replaced), and counts what happens at the
// provider itself in `stats`, so tests can assert e.g. "exactly one refresh grant".
//
//   const op = await startProvider({ clients: [{ clientId, redirectUris, postLogoutRedirectUris, origins }] })
//   op.issuer            // http://127.0.0.1:PORT
//   op.addResource({ audience: 'http://127.0.0.1:API_PORT' })  // JWT access tokens for that audience
//   op.stats.grants.refresh_token, op.stats.errors.invalid_grant, op.stats.revocations, op.stats.reset()
//   op.faults.set({ mode: 'status', status: 503 })   // the token endpoint misbehaves until op.faults.clear()
//   await op.close()
//
// Token values never reach stdout or the event log.
import { randomBytes } from 'node:crypto'
import http from 'node:http'

import { exportJWK, generateKeyPair } from 'jose'
import Provider, { errors as oidcErrors, interactionPolicy } from 'oidc-provider'
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js'

import { escapeHtml, listen, readBody, stopServer } from './util.mjs'

export const DEFAULT_USERS = Object.freeze([
  Object.freeze({
    sub: 'alice',
    username: 'alice',
    password: 'wonderland',
    claims: { name: 'Alice Liddell', given_name: 'Alice', family_name: 'Liddell', preferred_username: 'alice', email: 'alice@example.test', email_verified: true },
  }),
  Object.freeze({
    sub: 'bob',
    username: 'bob',
    password: 'builder',
    claims: { name: 'Bob Builder', given_name: 'Bob', family_name: 'Builder', preferred_username: 'bob', email: 'bob@example.test', email_verified: false },
  }),
])

const OIDC_CLAIMS = {
  openid: ['sub'],
  profile: ['name', 'given_name', 'family_name', 'preferred_username'],
  email: ['email', 'email_verified'],
}
const OIDC_SCOPES = new Set(['openid', 'offline_access', 'profile', 'email'])
const DEFAULT_RESOURCE_SCOPE = 'api:read api:write'

// Key generation is the slow part of a start; one signing key set per process is plenty.
let keysPromise
function signingKeys() {
  keysPromise ??= (async () => {
    const rsa = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true })
    const ec = await generateKeyPair('ES256', { extractable: true })
    return [
      { ...(await exportJWK(rsa.privateKey)), kid: 'e2e-rs256', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.privateKey)), kid: 'e2e-es256', alg: 'ES256', use: 'sig' },
    ]
  })()
  return keysPromise
}

function normalizeUri(value) {
  try {
    return new URL(value).href
  } catch {
    return undefined
  }
}

function createStats() {
  const stats = {
    /** successful token-endpoint grants by grant_type */
    grants: {},
    /** token-endpoint errors by OAuth error code (e.g. invalid_grant) */
    errors: {},
    /** token-endpoint errors by grant_type, then error code */
    grantErrors: {},
    /** successful RFC 7009 revocation requests */
    revocations: 0,
    /** completed RP-initiated logouts */
    endSessions: 0,
    /** refresh tokens consumed by rotation */
    refreshTokensConsumed: 0,
    /** grants revoked (by revocation, logout or refresh token reuse detection) */
    grantsRevoked: 0,
    logins: { ok: 0, failed: 0, aborted: 0 },
    /** successful authorization responses (code issued) and error responses */
    authorizations: { success: 0, error: 0 },
    /** requests by provider route name (CORS preflights counted under `preflight`) */
    requests: {},
    /** chronological log: { at, type, ... } without any token value */
    events: [],
    reset() {
      for (const key of ['grants', 'errors', 'grantErrors', 'requests']) stats[key] = {}
      stats.revocations = 0
      stats.endSessions = 0
      stats.refreshTokensConsumed = 0
      stats.grantsRevoked = 0
      stats.logins = { ok: 0, failed: 0, aborted: 0 }
      stats.authorizations = { success: 0, error: 0 }
      stats.events = []
      stats.customLogouts = []
    },
  }
  return stats
}

function bump(object, key, by = 1) {
  object[key] = (object[key] ?? 0) + by
}

/**
 * Starts the provider.
 *
 * @param {object} options
 * @param {number} [options.port=0]
 * @param {{ clientId: string, redirectUris: string[], postLogoutRedirectUris?: string[], origins?: string[] }[]} options.clients
 * @param {{ audience: string, scope?: string, accessTokenTTL?: number }[]} [options.resources=[]] resource servers that get JWT access tokens; more can be added later with `addResource`
 * @param {string | (() => string | undefined)} [options.defaultResource] resource used when an authorization or token request names none (default: none, so a client must send `resource`); a function is asked each time (a provider whose audience is fixed per client or server, as Okta's and Keycloak's)
 * @param {number} [options.accessTokenTTL=600] seconds
 * @param {number} [options.refreshTokenTTL=1209600] seconds
 * @param {{ enabled?: boolean, requireNonce?: boolean }} [options.dpop]
 * @param {{ sub: string, username: string, password: string, claims?: object }[]} [options.users]
 * @param {boolean} [options.rotateRefreshToken=true]
 * @param {boolean} [options.bindRefreshTokensToSession=false] true: refresh tokens die with the provider session (end-session revokes the grant); false: only revocation ends them
 * @param {boolean} [options.pkceRequired=true]
 *
 * Provider-shaped behaviour (the recipes in docs/providers/ are proven against these; all default off):
 * @param {'always'|'offline_access'|'offline_access_without_consent'|'access_type_offline'} [options.refreshTokenPolicy='always']
 *   when a code grant gets a refresh token: always (first-party default); only with `offline_access`, which
 *   oidc-provider drops without prompt=consent (OIDC Core §11); with `offline_access` and no consent prompt
 *   needed (Okta: the front door adds consent to prompt before oidc-provider sees the request); only with
 *   `access_type=offline` (Google)
 * @param {string[]} [options.scopes] the OIDC scopes the provider knows (default: openid offline_access profile email)
 * @param {string} [options.issuerPath=''] path of the issuer (e.g. `/<tenant-id>/v2.0` for Entra)
 * @param {{ aliases?: string[], transform?: (doc: object) => object }} [options.discovery] more paths that serve
 *   the discovery document, and a rewrite of it (hide end_session_endpoint, template the issuer, drop S256…)
 * @param {object} [options.accountClaims] claims every account has (e.g. Entra's `tid`), released under `openid`
 * @param {'audience'|'scope'} [options.defaultResourceFrom] where the resource comes from when no `resource`
 *   parameter is sent: Auth0's `audience` parameter, or (Entra) a requested scope `<audience>/<name>`
 * @param {boolean} [options.authorizationResponseIss=true] false: authorization responses carry no RFC 9207 `iss`
 *   (as Entra ID's; the discovery rewrite should then drop authorization_response_iss_parameter_supported)
 * @param {{ path: string, returnToParam: string }} [options.customLogout] a logout URL outside discovery
 *   (Auth0 `/v2/logout?returnTo`, Cognito `/logout?logout_uri`): checks client_id and the return URL,
 *   ends the provider session and redirects; counted in `stats.customLogouts`
 * Client entries may also carry `grantTypes` (default both) and `clientSecret` (then the client must
 * authenticate at the token endpoint with client_secret_post: a confidential "web application" client).
 * @param {boolean} [options.testLogin=false] a browser carrying the `oauth_spa_test_user` cookie
 *   (set by `useTestUser` of oauth-spa/testing) signs in as that user without the form; development only
 * @param {string[]} [options.acrValues] ACR values the provider supports, weakest first. A login then
 *   records the strongest supported value the request asked for in `acr_values` (else the first); a
 *   request whose `acr_values` the session's `acr` does not meet needs a new login (so `prompt=none`
 *   gets `login_required`); access tokens carry `acr` and `auth_time`.
 * @param {boolean} [options.coop=false] every provider response sends `Cross-Origin-Opener-Policy: same-origin`
 *   (it severs a popup from its opener, as many providers' pages do)
 * @param {boolean} [options.refuseFraming=false] an authorization request loaded in a frame is answered
 *   with a page that refuses framing (`X-Frame-Options: DENY`, CSP `frame-ancestors 'none'`)
 */
export async function startProvider(options = {}) {
  const {
    port = 0,
    clients = [],
    resources: initialResources = [],
    defaultResource,
    accessTokenTTL = 600,
    refreshTokenTTL = 14 * 24 * 60 * 60,
    dpop: dpopOptions = {},
    users: userList = DEFAULT_USERS,
    rotateRefreshToken = true,
    bindRefreshTokensToSession = false,
    pkceRequired = true,
    refreshTokenPolicy = 'always',
    scopes: oidcScopes = [...OIDC_SCOPES],
    issuerPath = '',
    discovery = {},
    accountClaims = {},
    defaultResourceFrom,
    customLogout,
    authorizationResponseIss = true,
    testLogin = false,
    acrValues,
    coop = false,
    refuseFraming = false,
  } = options
  if (!Array.isArray(clients) || clients.length === 0) throw new TypeError('startProvider: at least one client is required')
  const dpop = { enabled: true, requireNonce: false, ...dpopOptions }

  const users = new Map(userList.map((u) => [u.sub, u]))
  const resources = []
  const addResource = ({ audience, scope = DEFAULT_RESOURCE_SCOPE, accessTokenTTL: ttl }) => {
    const href = normalizeUri(audience)
    if (!href) throw new TypeError(`startProvider: resource audience must be an absolute URI: ${audience}`)
    resources.push({ audience, href, scope, accessTokenTTL: ttl })
  }
  initialResources.forEach(addResource)
  const findResource = (indicator) => {
    const href = normalizeUri(indicator)
    return resources.find((r) => r.audience === indicator || r.href === href)
  }

  const corsOrigins = new Map(clients.map((c) => [c.clientId, new Set(c.origins ?? c.redirectUris.map((u) => new URL(u).origin))]))
  const stats = createStats()
  const log = (type, data = {}) => stats.events.push({ at: Date.now(), type, ...data })

  // The issuer must be known before the Provider is built, so listen first.
  let handler = (_req, res) => {
    res.statusCode = 503
    res.end()
  }
  const server = http.createServer((req, res) => handler(req, res))
  await listen(server, port)
  const actualPort = server.address().port
  const issuer = `http://127.0.0.1:${actualPort}${issuerPath}`
  const origin = `http://127.0.0.1:${actualPort}`

  const configuration = {
    adapter: createMemoryAdapter(15),
    jwks: { keys: await signingKeys() },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    clients: clients.map((c) => ({
      client_id: c.clientId,
      client_name: c.clientName ?? c.clientId,
      application_type: 'web',
      token_endpoint_auth_method: c.clientSecret ? 'client_secret_post' : 'none',
      ...(c.clientSecret ? { client_secret: c.clientSecret } : {}),
      grant_types: c.grantTypes ?? ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: c.redirectUris,
      post_logout_redirect_uris: c.postLogoutRedirectUris ?? [],
      id_token_signed_response_alg: c.idTokenSigningAlg ?? 'RS256',
      ...(c.dpopBoundAccessTokens ? { dpop_bound_access_tokens: true } : {}),
    })),
    clientBasedCORS(_ctx, origin, client) {
      return corsOrigins.get(client.clientId)?.has(origin) ?? false
    },
    claims: { ...OIDC_CLAIMS, openid: [...OIDC_CLAIMS.openid, ...Object.keys(accountClaims)] },
    scopes: oidcScopes,
    extraParams: [...(defaultResourceFrom === 'audience' ? ['audience'] : []), ...(refreshTokenPolicy === 'access_type_offline' ? ['access_type'] : [])],
    responseTypes: ['code'],
    pkce: { required: () => pkceRequired },
    rotateRefreshToken: () => rotateRefreshToken,
    // oidc-provider drops `offline_access` from an authorization request unless it carries
    // prompt=consent (OIDC Core 11). A first-party SPA should not have to force a consent
    // screen, so this public client gets a refresh token on every code grant.
    issueRefreshToken: async (_ctx, client, code) => {
      if (!client.grantTypeAllowed('refresh_token')) return false
      if (refreshTokenPolicy === 'offline_access' || refreshTokenPolicy === 'offline_access_without_consent') return code.scopes.has('offline_access')
      if (refreshTokenPolicy === 'access_type_offline') return offlineGrants.has(code.grantId)
      return true
    },
    expiresWithSession: async () => bindRefreshTokensToSession,
    async findAccount(_ctx, sub) {
      const user = users.get(sub)
      if (!user) return undefined
      return {
        accountId: sub,
        async claims() {
          return { sub, ...user.claims, ...accountClaims }
        },
      }
    },
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      ...(acrValues ? { policy: acrPolicy() } : {}),
    },
    ...(acrValues
      ? {
          acrValues,
          // The access token says how and when the user authenticated (RFC 9470 §4: what an API checks).
          async extraTokenClaims(ctx, token) {
            if (token.kind !== 'AccessToken') return undefined
            const source = ctx?.oidc?.entities?.AuthorizationCode ?? ctx?.oidc?.entities?.RefreshToken
            return source ? { acr: source.acr, auth_time: source.authTime } : undefined
          },
        }
      : {}),
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? accessTokenTTL,
      AuthorizationCode: 60,
      ClientCredentials: 600,
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
      PreAuthorizedCode: 600,
      IdToken: 3600,
      Interaction: 3600,
      Session: 24 * 60 * 60,
      Grant: refreshTokenTTL,
      RefreshToken(ctx, token, client) {
        // As oidc-provider's default: a rotated refresh token of a public client keeps the
        // remaining lifetime of the one it replaces (no endless sliding sessions).
        if (ctx?.oidc?.entities.RotatedRefreshToken && client.clientAuthMethod === 'none' && !token.isSenderConstrained()) {
          return ctx.oidc.entities.RotatedRefreshToken.remainingTTL
        }
        return refreshTokenTTL
      },
    },
    features: {
      devInteractions: { enabled: false },
      revocation: {
        enabled: true,
        // a client may revoke only its own tokens (a public client is silently ignored otherwise)
        async allowedPolicy(_ctx, client, token) {
          return token.clientId === client.clientId
        },
      },
      userinfo: { enabled: true },
      dPoP: {
        enabled: dpop.enabled !== false,
        nonceSecret: randomBytes(32),
        requireNonce: () => dpop.requireNonce === true,
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource,
        postLogoutSuccessSource,
      },
      resourceIndicators: {
        enabled: true,
        async defaultResource(ctx, _client, oneOf) {
          if (oneOf) return oneOf[0]
          return resourceFromParams(ctx.oidc.params) ?? (typeof defaultResource === 'function' ? defaultResource() : defaultResource)
        },
        // refresh and code grants without an explicit `resource` keep the granted one, so
        // they too yield a JWT for the API rather than an opaque userinfo token
        useGrantedResource: async () => true,
        async getResourceServerInfo(_ctx, indicator) {
          const resource = findResource(indicator)
          if (!resource) throw new oidcErrors.InvalidTarget(`unknown resource indicator ${indicator}`)
          return {
            audience: resource.audience,
            scope: resource.scope,
            accessTokenTTL: resource.accessTokenTTL ?? accessTokenTTL,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          }
        },
      },
    },
    renderError,
  }

  const provider = new Provider(issuer, configuration)

  // Provider-shaped behaviour (see the options above).
  /** Grants whose authorization request said access_type=offline (Google). */
  const offlineGrants = new Set()
  /** The resource a request means without a `resource` parameter: Auth0's `audience`, or Entra's `<audience>/<scope>`. */
  function resourceFromParams(params = {}) {
    if (defaultResourceFrom === 'audience' && params.audience) return findResource(params.audience)?.audience
    if (defaultResourceFrom === 'scope') {
      const scopes = String(params.scope ?? '').split(' ')
      return resources.find((r) => scopes.some((s) => s.startsWith(`${r.audience}/`)))?.audience
    }
    return undefined
  }
  if (refreshTokenPolicy === 'access_type_offline') {
    provider.on('authorization.success', (ctx) => {
      const grantId = ctx.oidc.entities.Grant?.jti
      if (grantId && ctx.oidc.params.access_type === 'offline') offlineGrants.add(grantId)
    })
  }

  provider.on('grant.success', (ctx) => {
    const grantType = ctx.oidc.params.grant_type
    bump(stats.grants, grantType)
    const at = ctx.oidc.entities.AccessToken
    log('grant.success', {
      grantType,
      // the access token's id (not the token): lets a test match a grant to the API's requests
      jti: at?.jti ?? null,
      clientId: ctx.oidc.client?.clientId,
      resourceParam: ctx.oidc.params.resource ?? null,
      dpop: Boolean(ctx.get('DPoP')),
      accessTokenFormat: at?.resourceServer ? at.resourceServer.accessTokenFormat : 'opaque',
      audience: at?.resourceServer?.audience ?? null,
      origin: ctx.get('Origin') || null,
    })
  })
  provider.on('grant.error', (ctx, err) => {
    const grantType = ctx.oidc?.params?.grant_type ?? 'unknown'
    const code = err.error ?? 'unknown'
    bump(stats.errors, code)
    stats.grantErrors[grantType] ??= {}
    bump(stats.grantErrors[grantType], code)
    log('grant.error', { grantType, error: code, description: err.error_description, detail: err.error_detail })
  })
  provider.on('refresh_token.consumed', () => {
    stats.refreshTokensConsumed += 1
    log('refresh_token.consumed')
  })
  provider.on('grant.revoked', () => {
    stats.grantsRevoked += 1
    log('grant.revoked')
  })
  provider.on('end_session.success', () => {
    stats.endSessions += 1
    log('end_session.success')
  })
  provider.on('authorization.success', () => {
    stats.authorizations.success += 1
    log('authorization.success')
  })
  provider.on('authorization.error', (_ctx, err) => {
    stats.authorizations.error += 1
    log('authorization.error', { error: err.error, description: err.error_description })
  })
  for (const event of ['revocation.error', 'end_session.error', 'end_session_confirm.error', 'discovery.error', 'jwks.error']) {
    provider.on(event, (_ctx, err) => log(event, { error: err.error, description: err.error_description }))
  }
  provider.on('server_error', (ctx, err) => {
    log('server_error', { path: ctx.path, message: err.message })
    console.error(`[provider] server_error at ${ctx.method} ${ctx.path}: ${err.message}`)
  })

  // Count requests per route, after the provider handled them.
  provider.use(async (ctx, next) => {
    await next()
    const route = ctx.oidc?.route
    if (!route) return
    if (ctx.method === 'OPTIONS') {
      bump(stats.requests, 'preflight')
      return
    }
    bump(stats.requests, route)
    if (route === 'revocation' && ctx.status === 200) {
      stats.revocations += 1
      log('revocation', { tokenTypeHint: ctx.oidc.params?.token_type_hint ?? null })
    }
  })

  const interactions = createInteractionHandler({ provider, users, stats, log, findResource, resourceFromParams, testLogin, acrValues })
  const callback = provider.callback()
  const allowedOrigin = (origin) => [...corsOrigins.values()].some((set) => set.has(origin))
  const faults = createFaults({ allowedOrigin, log })
  stats.customLogouts = []
  const discoveryPaths = new Set(['/.well-known/openid-configuration', ...(discovery.aliases ?? [])])
  handler = (req, res) => {
    if (coop) res.setHeader('Cross-Origin-Opener-Policy', 'same-origin')
    if (req.url.split('?')[0] === '/auth' && req.method === 'GET') {
      // What each authorization request asked for, where a test cannot watch the browser's requests.
      const q = new URL(req.url, origin).searchParams
      log('authorization.request', { prompt: q.get('prompt'), acrValues: q.get('acr_values'), maxAge: q.get('max_age'), scope: q.get('scope'), dest: req.headers['sec-fetch-dest'] ?? null })
    }
    if (refuseFraming && req.url.split('?')[0] === '/auth' && req.headers['sec-fetch-dest'] === 'iframe') {
      log('framing.refused')
      res.writeHead(200, {
        'Content-Type': 'text/html; charset=utf-8',
        'X-Frame-Options': 'DENY',
        'Content-Security-Policy': "frame-ancestors 'none'",
        'Cache-Control': 'no-store',
      })
      res.end(page('Sign in', '<p>This page cannot be shown in a frame.</p>'))
      return
    }
    if (faults.intercept(req, res, () => callback(req, res))) return
    const path = req.url.split('?')[0]
    if (!authorizationResponseIss) stripIss(res)
    if (discoveryPaths.has(path) && (discovery.transform || path !== '/.well-known/openid-configuration')) {
      serveDiscovery(req, res, path)
      return
    }
    if (customLogout && path === customLogout.path && req.method === 'GET') {
      handleCustomLogout(req, res).catch((err) => {
        res.statusCode = 500
        res.end(String(err.message))
      })
      return
    }
    if (refreshTokenPolicy === 'offline_access_without_consent' && (path === '/auth' || path === '/request') ) {
      // Okta grants offline_access without a consent prompt; oidc-provider drops it without one.
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
    if (req.url.startsWith('/interaction/')) {
      interactions(req, res).catch((err) => {
        log('interaction.error', { message: err.message })
        if (!res.headersSent) {
          res.statusCode = err.statusCode ?? 500
          res.setHeader('Content-Type', 'text/html; charset=utf-8')
          res.end(page('Sign-in failed', `<p id="error">${escapeHtml(err.error_description ?? err.message)}</p>`))
        } else {
          res.end()
        }
      })
      return
    }
    callback(req, res)
  }

  /** Removes `iss` from a redirect that carries an authorization response (code or error, with state). */
  function stripIss(res) {
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

  /** The discovery document as oidc-provider answers it, rewritten by `discovery.transform`. */
  function serveDiscovery(req, res, path) {
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
  async function handleCustomLogout(req, res) {
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

  return {
    issuer,
    origin,
    port: actualPort,
    url: issuer,
    provider,
    users: userList,
    stats,
    resources,
    addResource,
    /** where the browser's login form posts, for tests that need it */
    tokenEndpoint: `${origin}/token`,
    /** switch to make an endpoint (default POST /token) fail, hang, drop or slow down; see createFaults */
    faults,
    async close() {
      await stopServer(server)
    },
  }
}

/**
 * A switch in front of the provider that makes one endpoint misbehave, for failure tests:
 *
 *   faults.set({ mode: 'status', status: 503 })        answer 503 (500, ...) with CORS headers, never reach the provider
 *                                                      (extra response headers: { ..., headers: { Location } })
 *   faults.set({ mode: 'drop' })                       cut the connection without an answer
 *   faults.set({ mode: 'hang' })                       never answer (until clear(), which cuts it)
 *   faults.set({ mode: 'delay', delayMs, phase: 'before' })  hold the request, then hand it to the provider,
 *                                                      unless the client went away meanwhile (then the provider never sees it)
 *   faults.set({ mode: 'delay', delayMs, phase: 'after' })   the provider handles it at once (e.g. rotates the
 *                                                      refresh token) and the answer is held back for delayMs
 *   options: path ('/token'), method ('POST'), count (how many requests, default: until clear())
 *   faults.clear(), faults.log (one entry per intercepted request: { at, mode, outcome, clientGoneAt?, ... }), faults.active
 *
 * Every intercepted request is also logged in the provider's event log as `fault`.
 */
function createFaults({ allowedOrigin, log }) {
  let rule
  const open = new Set()
  const entries = []
  const note = (entry, outcome) => {
    entry.outcome = outcome
    entry.settledAt = Date.now()
    log('fault', { mode: entry.mode, path: entry.path, outcome })
  }
  const clientGone = (req, res) => req.socket.destroyed || res.destroyed || (res.closed && !res.writableFinished)

  function intercept(req, res, pass) {
    if (!rule) return false
    const path = req.url.split('?')[0]
    if (path !== rule.path || req.method !== rule.method) return false
    const r = rule
    if (--r.remaining <= 0) rule = undefined
    const entry = { at: Date.now(), mode: r.mode, path, outcome: 'pending' }
    entries.push(entry)
    // when the client (the browser tab) went away before getting an answer
    res.on('close', () => {
      if (!res.writableFinished) entry.clientGoneAt ??= Date.now()
    })
    const origin = req.headers.origin
    const cors = origin && allowedOrigin(origin) ? { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' } : {}

    if (r.mode === 'status') {
      req.resume()
      const status = r.status ?? 503
      const json = r.body === undefined && status !== 503
      const body = r.body ?? (json ? JSON.stringify({ error: 'server_error', error_description: 'fault injected by the test' }) : 'Service Unavailable')
      res.writeHead(status, {
        ...cors,
        'Content-Type': json ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
        ...(status === 503 ? { 'Retry-After': '1' } : {}),
        ...r.headers,
      })
      res.end(body)
      note(entry, `answered ${status}`)
      return true
    }
    if (r.mode === 'drop') {
      req.socket.destroy()
      note(entry, 'connection dropped')
      return true
    }
    if (r.mode === 'hang') {
      const cut = () => {
        if (entry.outcome === 'pending') note(entry, 'cut by clear()')
        req.socket.destroy()
      }
      open.add(cut)
      res.on('close', () => {
        open.delete(cut)
        if (entry.outcome === 'pending') note(entry, 'client went away')
      })
      return true
    }
    if (r.mode === 'delay' && r.phase === 'after') {
      const end = res.end.bind(res)
      res.end = (...args) => {
        entry.providerDoneAt = Date.now()
        entry.status = res.statusCode
        const timer = setTimeout(() => {
          open.delete(flush)
          note(entry, clientGone(req, res) ? `provider answered ${res.statusCode}; answer lost: client gone` : `provider answered ${res.statusCode}; delivered late`)
          end(...args)
        }, r.delayMs ?? 1000)
        const flush = () => {
          clearTimeout(timer)
          note(entry, clientGone(req, res) ? 'answer lost: client gone' : 'delivered early (clear)')
          end(...args)
        }
        open.add(flush)
        return res
      }
      pass()
      return true
    }
    if (r.mode === 'delay') {
      let gone = false
      res.on('close', () => {
        if (!res.writableFinished) gone = true
      })
      const timer = setTimeout(() => {
        open.delete(release)
        release()
      }, r.delayMs ?? 1000)
      const release = () => {
        clearTimeout(timer)
        if (gone || clientGone(req, res)) {
          note(entry, 'client gone before the provider saw the request: not forwarded')
          req.socket.destroy()
          return
        }
        note(entry, 'forwarded to the provider')
        pass()
      }
      open.add(release)
      return true
    }
    throw new Error(`faults: unknown mode ${r.mode}`)
  }

  return {
    intercept,
    log: entries,
    get active() {
      return rule !== undefined
    },
    set(options) {
      const { mode, path = '/token', method = 'POST', count = Infinity, ...rest } = options
      if (!['status', 'drop', 'hang', 'delay'].includes(mode)) throw new TypeError(`faults.set: unknown mode ${mode}`)
      rule = { mode, path, method, remaining: count, ...rest }
      log('fault.set', { mode, path, method, count: Number.isFinite(count) ? count : null, status: rest.status ?? null, delayMs: rest.delayMs ?? null, phase: rest.phase ?? null })
    },
    /** Stops misbehaving; held requests are released (delay) or cut (hang). */
    clear() {
      rule = undefined
      for (const release of [...open]) release()
      open.clear()
      log('fault.clear')
    },
  }
}

export const TEST_LOGIN_COOKIE = 'oauth_spa_test_user'

function testLoginUser(req, users) {
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=')
    if (i !== -1 && part.slice(0, i).trim() === TEST_LOGIN_COOKIE) {
      const name = decodeURIComponent(part.slice(i + 1).trim())
      return [...users.values()].find((u) => u.username === name)
    }
  }
  return undefined
}

/** The default interaction policy, plus: the session's acr must be one the request's acr_values asks for. */
function acrPolicy() {
  const { base, Check } = interactionPolicy
  const policy = base()
  policy.get('login').checks.add(new Check('acr_values', 'the requested authentication context is not met', (ctx) => {
    const requested = String(ctx.oidc.params.acr_values ?? '').split(' ').filter(Boolean)
    if (requested.length === 0 || !ctx.oidc.session.accountId) return Check.NO_NEED_TO_PROMPT
    // A login that just happened in this request recorded what was asked for (see acrFor).
    if (ctx.oidc.result?.login || requested.includes(ctx.oidc.acr)) return Check.NO_NEED_TO_PROMPT
    return Check.REQUEST_PROMPT
  }))
  return policy
}

/** The acr a login records: the strongest supported value the request asked for, else the weakest. */
function acrFor(acrValues, params) {
  if (!acrValues) return undefined
  const requested = new Set(String(params.acr_values ?? '').split(' ').filter(Boolean))
  return [...acrValues].reverse().find((v) => requested.has(v)) ?? acrValues[0]
}

function createInteractionHandler({ provider, users, stats, log, findResource, resourceFromParams = () => undefined, testLogin = false, acrValues }) {
  return async function interactions(req, res) {
    res.setHeader('Cache-Control', 'no-store')
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
    const url = new URL(req.url, 'http://127.0.0.1')
    const match = /^\/interaction\/([^/]+)(?:\/(login|abort))?$/.exec(url.pathname)
    if (!match) {
      res.statusCode = 404
      res.end()
      return
    }
    const [, uid, action] = match
    const details = await provider.interactionDetails(req, res)
    if (details.uid !== uid) throw Object.assign(new Error('interaction mismatch'), { statusCode: 400 })
    const { prompt, params } = details

    if (req.method === 'GET' && !action) {
      if (prompt.name === 'login') {
        const testUser = testLogin ? testLoginUser(req, users) : undefined
        if (testUser) {
          stats.logins.ok += 1
          log('interaction.test_login', { sub: testUser.sub })
          const grantId = await grantRequested(provider, details, testUser.sub, findResource, resourceFromParams)
          await provider.interactionFinished(req, res, { login: { accountId: testUser.sub }, consent: { grantId } }, { mergeWithLastSubmission: false })
          return
        }
        sendHtml(res, 200, loginPage({ uid, params, error: undefined, users }))
        log('interaction.login_page', { clientId: params.client_id })
        return
      }
      // Any other prompt (consent) for these first-party clients: grant what was asked for.
      const grantId = await grantRequested(provider, details, details.session?.accountId, findResource, resourceFromParams)
      log('interaction.auto_consent', { prompt: prompt.name })
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true })
      return
    }

    if (req.method === 'POST' && action === 'abort') {
      await readBody(req)
      stats.logins.aborted += 1
      log('interaction.abort')
      await provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'End-User aborted interaction',
      }, { mergeWithLastSubmission: false })
      return
    }

    if (req.method === 'POST' && action === 'login') {
      const form = new URLSearchParams(await readBody(req))
      const login = form.get('login') ?? ''
      const password = form.get('password') ?? ''
      const user = [...users.values()].find((u) => u.username === login && u.password === password)
      if (!user) {
        stats.logins.failed += 1
        log('interaction.login_failed')
        sendHtml(res, 200, loginPage({ uid, params, error: 'Invalid username or password.', login, users }))
        return
      }
      stats.logins.ok += 1
      log('interaction.login', { sub: user.sub })
      const grantId = await grantRequested(provider, details, user.sub, findResource, resourceFromParams)
      const acr = acrFor(acrValues, params)
      await provider.interactionFinished(req, res, {
        login: { accountId: user.sub, ...(acr ? { acr } : {}) },
        consent: { grantId },
      }, { mergeWithLastSubmission: false })
      return
    }

    res.statusCode = 405
    res.end()
  }
}

// First-party consent: grant every OIDC scope and resource scope that was requested.
async function grantRequested(provider, details, accountId, findResource, resourceFromParams = () => undefined) {
  const { params, grantId: existing } = details
  let grant = existing ? await provider.Grant.find(existing) : undefined
  if (!grant || grant.accountId !== accountId) {
    grant = new provider.Grant({ accountId, clientId: params.client_id })
  }
  const requested = String(params.scope ?? '').split(' ').filter(Boolean)
  const oidcScopes = requested.filter((s) => OIDC_SCOPES.has(s))
  if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '))
  const requestedResources = [params.resource ?? resourceFromParams(params)].flat().filter(Boolean)
  for (const indicator of requestedResources) {
    const resource = findResource(indicator)
    if (!resource) continue
    const available = new Set(resource.scope.split(' '))
    const scopes = requested.filter((s) => available.has(s))
    grant.addResourceScope(indicator, scopes.join(' '))
  }
  if (details.prompt?.details?.missingOIDCClaims) grant.addOIDCClaims(details.prompt.details.missingOIDCClaims)
  return grant.save()
}

function sendHtml(res, status, html) {
  res.statusCode = status
  res.setHeader('Content-Type', 'text/html; charset=utf-8')
  res.end(html)
}

const STYLE = 'body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:22rem}label,input,button{display:block;width:100%;margin:.3rem 0}input{padding:.4rem}button{padding:.5rem}.error{color:#b00}'

function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>`
}

function loginPage({ uid, params, error, login = '', users }) {
  return page('Sign in', `
<p>to continue to <strong id="client">${escapeHtml(params.client_id)}</strong></p>
${error ? `<p class="error" id="login-error" role="alert">${escapeHtml(error)}</p>` : ''}
<form id="login-form" method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
  <label for="login">Username</label>
  <input id="login" name="login" type="text" required autofocus value="${escapeHtml(login)}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" required>
  <button id="submit" type="submit">Sign in</button>
</form>
<form id="abort-form" method="post" action="/interaction/${escapeHtml(uid)}/abort">
  <button id="deny" type="submit">Cancel</button>
</form>
<p><small>Demo users: ${[...users.values()].map((u) => `${escapeHtml(u.username)} / ${escapeHtml(u.password)}`).join(', ')}</small></p>`)
}

async function logoutSource(ctx, form) {
  ctx.type = 'html'
  ctx.body = page('Sign out', `
<p>Do you want to sign out from ${escapeHtml(ctx.host)}?</p>
${form}
<button id="logout-yes" autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button id="logout-no" type="submit" form="op.logoutForm">No, stay signed in</button>`)
}

async function postLogoutSuccessSource(ctx) {
  ctx.type = 'html'
  ctx.body = page('Signed out', '<p id="signed-out">Your sign-out was successful.</p>')
}

async function renderError(ctx, out) {
  ctx.type = 'html'
  ctx.body = page('Error', `<pre id="error">${escapeHtml(out.error)}</pre><pre id="error-description">${escapeHtml(out.error_description ?? '')}</pre>`)
}
