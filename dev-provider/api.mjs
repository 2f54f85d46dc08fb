// A resource server for the demo and the end-to-end tests (plain node:http + jose).
//
// It accepts JWT access tokens (typ at+jwt) of the given issuer and audience, as
// `Authorization: Bearer <token>` or, for DPoP-bound tokens, `Authorization: DPoP <token>`
// plus a `DPoP` proof (RFC 9449), and answers 401 with a proper WWW-Authenticate challenge.
//
//   const api = await startApi({ issuer, allowedOrigins: [appOrigin], dpop: { requireNonce: true } })
//   GET  /api/me             → the validated claims
//   POST /api/echo           → { method, body, contentType, sub }
//   GET  /api/redirect?to=U  → 302 to U (authenticated or not)
//   GET  /api/public         → { ok: true } without a token
//   GET  /api/strong         → the claims, when the token's `acr` is `stepUp.acr` and its `auth_time` at most
//                              `stepUp.maxAge` s old; else 401 insufficient_user_authentication (RFC 9470)
//   GET  /api/write          → the claims, when the token's scope has `stepUp.scope`; else 403 insufficient_scope
//   GET  /.well-known/oauth-protected-resource → RFC 9728 metadata (named by the step-up challenges)
//   api.stepUp.maxAge = 2    → change what /api/strong asks for, at any time
//   api.stats.requests, api.stats.unauthorized.invalid_token, api.stats.schemes, api.stats.reset()
//   api.faults.set({ path: '/api/echo', count: 1 })  // the next request there is refused: 401 invalid_token
//   api.stats.log[i].proof   → { jkt, jti, htm, htu, nonce } of a DPoP proof whose signature verified
//   api.dpop.alwaysNewNonce = true  → every DPoP proof gets `use_dpop_nonce` with a fresh nonce
//
// Also exports startEchoServer(): a foreign-origin server with permissive CORS that records
// the headers of every request, so tests can check that no token ever reached it.
// Token values are never printed.
//
// The parts: api-tokens.mjs (access-token validation), api-dpop.mjs (DPoP proofs and nonces),
// api-errors.mjs (refusals and their challenges), api-stats.mjs and api-faults.mjs (for tests),
// echo-server.mjs; this file holds the routes.
import { createHash } from 'node:crypto'
import http from 'node:http'

import { createRemoteJWKSet } from 'jose'

import { createDpopNonces, createDpopVerifier } from './api-dpop.mjs'
import { Unauthorized, challenge } from './api-errors.mjs'
import { createApiFaults } from './api-faults.mjs'
import { createApiStats } from './api-stats.mjs'
import { createAuthenticator } from './api-tokens.mjs'
import { listen, readBody, sendJson, stopServer } from './util.mjs'

export { startEchoServer } from './echo-server.mjs'

const REALM = 'oauth-spa-demo-api'

function corsHeaders(origin, allowed) {
  if (!origin || !allowed(origin)) return {}
  return {
    'Access-Control-Allow-Origin': origin,
    'Access-Control-Expose-Headers': 'WWW-Authenticate, DPoP-Nonce',
    Vary: 'Origin',
  }
}

/**
 * @param {object} options
 * @param {number} [options.port=0]
 * @param {string} options.issuer
 * @param {string} [options.audience] default: this server's own URL (http://127.0.0.1:PORT)
 * @param {string[] | ((origin: string) => boolean)} [options.allowedOrigins=[]] CORS origins
 * @param {{ requireNonce?: boolean, alwaysNewNonce?: boolean }} [options.dpop] `alwaysNewNonce`: answer
 *   every DPoP proof with `use_dpop_nonce` and a fresh `DPoP-Nonce` (a server that never accepts a
 *   nonce; also settable later through `api.dpop.alwaysNewNonce`)
 * @param {string} [options.jwksUri] default `${issuer}/jwks`
 * @param {{ acr?: string, maxAge?: number, scope?: string }} [options.stepUp] what /api/strong and /api/write
 *   demand (default acr `urn:oauth-spa:mfa`, maxAge 300 s, scope `api:write`); also `api.stepUp`
 */
export async function startApi(options = {}) {
  const { port = 0, issuer, allowedOrigins = [], dpop = {}, jwksUri } = options
  if (!issuer) throw new TypeError('startApi: issuer is required')
  const allowed = typeof allowedOrigins === 'function' ? allowedOrigins : (o) => allowedOrigins.includes(o)
  const jwks = createRemoteJWKSet(new URL(jwksUri ?? `${issuer}/jwks`), { cooldownDuration: 0 })

  const nonces = createDpopNonces()
  const dpopState = { requireNonce: dpop.requireNonce === true, alwaysNewNonce: dpop.alwaysNewNonce === true }
  const stepUp = { acr: 'urn:oauth-spa:mfa', maxAge: 300, scope: 'api:write', ...options.stepUp }

  const server = http.createServer()
  const actualPort = await listen(server, port)
  const origin = `http://127.0.0.1:${actualPort}`
  const audience = options.audience ?? origin

  const stats = createApiStats()
  const faults = createApiFaults()
  const verifyDpopProof = createDpopVerifier({ origin, dpopState, nonces })
  const authenticate = createAuthenticator({ issuer, audience, jwks, verifyDpopProof })

  server.on('request', (req, res) => {
    handle(req, res).catch((err) => {
      console.error(`[api] ${req.method} ${req.url}: ${err.message}`)
      if (!res.headersSent) sendJson(res, err.statusCode ?? 500, { error: 'server_error' })
      else res.end()
    })
  })

  async function handle(req, res) {
    const url = new URL(req.url, origin)
    const requestOrigin = req.headers.origin
    const cors = corsHeaders(requestOrigin, allowed)

    if (req.method === 'OPTIONS') {
      stats.preflights += 1
      const headers = { ...cors }
      if (cors['Access-Control-Allow-Origin']) {
        headers['Access-Control-Allow-Methods'] = 'GET, POST, PUT, PATCH, DELETE, OPTIONS'
        headers['Access-Control-Allow-Headers'] = 'Authorization, DPoP, Content-Type'
        headers['Access-Control-Max-Age'] = '5'
      }
      res.writeHead(204, headers)
      res.end()
      return
    }

    stats.requests += 1
    stats.byRoute[url.pathname] = (stats.byRoute[url.pathname] ?? 0) + 1
    const record = { at: Date.now(), method: req.method, path: url.pathname, search: url.search, origin: requestOrigin ?? null, scheme: 'none', dpopProof: false }
    stats.log.push(record)

    const body = req.method === 'GET' || req.method === 'HEAD' ? '' : await readBody(req)
    if (body) {
      record.bodyLength = Buffer.byteLength(body)
      record.bodySha256 = createHash('sha256').update(body).digest('hex')
    }
    const finish = (status, json, headers = {}) => {
      record.status = status
      if (status < 400) stats.ok += 1
      sendJson(res, status, json, { ...cors, ...headers })
    }

    if (url.pathname === '/api/public') {
      record.scheme = req.headers.authorization ? req.headers.authorization.split(' ')[0] : 'none'
      stats.schemes.push(record.scheme)
      finish(200, { ok: true })
      return
    }

    if (url.pathname === '/.well-known/oauth-protected-resource') {
      finish(200, { resource: audience, authorization_servers: [issuer], bearer_methods_supported: ['header'], scopes_supported: ['api:read', 'api:write'] })
      return
    }

    if (url.pathname === '/api/redirect') {
      record.scheme = req.headers.authorization ? req.headers.authorization.split(' ')[0] : 'none'
      stats.schemes.push(record.scheme)
      const to = url.searchParams.get('to')
      record.status = 302
      res.writeHead(302, { ...cors, Location: to ?? '/', 'Cache-Control': 'no-store' })
      res.end()
      return
    }

    let auth
    try {
      auth = await authenticate(req, url.pathname, record)
      if (faults.take(req.method, url.pathname)) {
        record.fault = true
        throw new Unauthorized(auth.scheme, 'invalid_token', 'the access token was refused (fault injected by the test)')
      }
    } catch (err) {
      stats.schemes.push(record.scheme)
      if (!(err instanceof Unauthorized)) throw err
      const key = err.error ?? 'no_token'
      stats.unauthorized[key] = (stats.unauthorized[key] ?? 0) + 1
      record.error = key
      record.errorDescription = err.description
      const headers = {}
      const params = err.error
        ? { error: err.error, error_description: err.description }
        : { realm: REALM }
      if (err.scheme === 'DPoP') params.algs = 'ES256 EdDSA'
      headers['WWW-Authenticate'] = challenge(err.scheme, params)
      if (err.extra.nonce || (dpopState.requireNonce && err.scheme === 'DPoP')) headers['DPoP-Nonce'] = nonces.current
      finish(401, { error: key, error_description: err.description }, headers)
      return
    }
    stats.schemes.push(record.scheme)

    const extra = auth.scheme === 'DPoP' && dpopState.requireNonce ? { 'DPoP-Nonce': nonces.current } : {}
    if (url.pathname === '/api/me' && req.method === 'GET') {
      finish(200, auth.claims, extra)
      return
    }
    // Step-up routes: the token is valid, but not enough for them.
    const metadata = `${origin}/.well-known/oauth-protected-resource`
    const refuse = (status, params, json) => {
      record.error = params.error
      stats.unauthorized[params.error] = (stats.unauthorized[params.error] ?? 0) + 1
      finish(status, json, { ...extra, 'WWW-Authenticate': challenge(auth.scheme, { ...params, resource_metadata: metadata }) })
    }
    if (url.pathname === '/api/strong' && req.method === 'GET') {
      const age = Math.floor(Date.now() / 1000) - Number(auth.claims.auth_time)
      record.acr = auth.claims.acr ?? null
      record.authTime = auth.claims.auth_time ?? null
      if (auth.claims.acr !== stepUp.acr || !(age <= stepUp.maxAge)) {
        const description = auth.claims.acr !== stepUp.acr ? 'a stronger authentication is required' : 'a more recent authentication is required'
        refuse(401, { error: 'insufficient_user_authentication', error_description: description, acr_values: stepUp.acr, max_age: stepUp.maxAge }, { error: 'insufficient_user_authentication' })
        return
      }
      finish(200, auth.claims, extra)
      return
    }
    if (url.pathname === '/api/write' && req.method === 'GET') {
      const scopes = String(auth.claims.scope ?? '').split(' ')
      record.scope = auth.claims.scope ?? null
      if (!scopes.includes(stepUp.scope)) {
        refuse(403, { error: 'insufficient_scope', error_description: `the scope ${stepUp.scope} is required`, scope: stepUp.scope }, { error: 'insufficient_scope' })
        return
      }
      finish(200, auth.claims, extra)
      return
    }
    if (url.pathname === '/api/echo' && req.method === 'POST') {
      finish(200, { method: req.method, body, contentType: req.headers['content-type'] ?? null, sub: auth.claims.sub }, extra)
      return
    }
    finish(404, { error: 'not_found' }, extra)
  }

  return {
    url: origin,
    origin,
    port: actualPort,
    audience,
    issuer,
    stats,
    dpop: dpopState,
    stepUp,
    faults,
    /** Issues a new DPoP nonce (the previous one stays valid for one more rotation). */
    rotateDpopNonce() {
      return nonces.rotate()
    },
    get dpopNonce() {
      return nonces.current
    },
    async close() {
      await stopServer(server)
    },
  }
}
