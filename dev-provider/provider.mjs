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
//
// The parts: provider-config.mjs (the oidc-provider configuration), accounts.mjs, resources.mjs,
// signing-keys.mjs, interactions.mjs and pages.mjs (sign-in), provider-stats.mjs (counting),
// provider-faults.mjs (fault injection), provider-routes.mjs and provider-shapes.mjs (the HTTP
// handler in front of oidc-provider and its provider-shaped rewrites).
import http from 'node:http'

import Provider from 'oidc-provider'

import { DEFAULT_USERS, OIDC_SCOPES } from './accounts.mjs'
import { createInteractionHandler } from './interactions.mjs'
import { providerConfiguration } from './provider-config.mjs'
import { createFaults } from './provider-faults.mjs'
import { createProviderHandler } from './provider-routes.mjs'
import { countProviderEvents, createStats } from './provider-stats.mjs'
import { createResources } from './resources.mjs'
import { signingKeys } from './signing-keys.mjs'
import { listen, stopServer } from './util.mjs'

export { DEFAULT_USERS } from './accounts.mjs'
export { TEST_LOGIN_COOKIE } from './interactions.mjs'

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
  const { resources, addResource, findResource, resourceFromParams } = createResources(initialResources, defaultResourceFrom)

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

  /** Grants whose authorization request said access_type=offline (Google). */
  const offlineGrants = new Set()
  const configuration = providerConfiguration({
    keys: await signingKeys(),
    clients,
    corsOrigins,
    users,
    accountClaims,
    oidcScopes,
    defaultResource,
    defaultResourceFrom,
    refreshTokenPolicy,
    offlineGrants,
    rotateRefreshToken,
    bindRefreshTokensToSession,
    pkceRequired,
    accessTokenTTL,
    refreshTokenTTL,
    dpop,
    acrValues,
    resources: { findResource, resourceFromParams },
  })
  const provider = new Provider(issuer, configuration)

  if (refreshTokenPolicy === 'access_type_offline') {
    provider.on('authorization.success', (ctx) => {
      const grantId = ctx.oidc.entities.Grant?.jti
      if (grantId && ctx.oidc.params.access_type === 'offline') offlineGrants.add(grantId)
    })
  }
  countProviderEvents(provider, stats, log)

  const interactions = createInteractionHandler({ provider, users, stats, log, findResource, resourceFromParams, testLogin, acrValues })
  const allowedOrigin = (origin) => [...corsOrigins.values()].some((set) => set.has(origin))
  const faults = createFaults({ allowedOrigin, log })
  stats.customLogouts = []
  handler = createProviderHandler({
    provider,
    origin,
    clients,
    stats,
    log,
    faults,
    interactions,
    options: { coop, refuseFraming, authorizationResponseIss, discovery, customLogout, refreshTokenPolicy },
  })

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
