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
import { createHash, randomBytes } from 'node:crypto'
import http from 'node:http'

import { EmbeddedJWK, calculateJwkThumbprint, createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify } from 'jose'

import { listen, readBody, sendJson, stopServer } from './util.mjs'

const ACCESS_TOKEN_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519']
const DPOP_ALGS = ['ES256', 'EdDSA', 'Ed25519', 'RS256', 'PS256']
const DPOP_IAT_WINDOW = 60 // seconds either side
const REALM = 'oauth-spa-demo-api'

class Unauthorized extends Error {
  constructor(scheme, error, description, extra = {}) {
    super(description)
    this.scheme = scheme
    this.error = error
    this.description = description
    this.extra = extra
  }
}

function quote(value) {
  return `"${String(value).replace(/["\\]/g, '')}"`
}

function challenge(scheme, params) {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${quote(v)}`)
  return parts.length ? `${scheme} ${parts.join(', ')}` : scheme
}

function describe(err) {
  if (err instanceof joseErrors.JWTExpired) return 'the access token expired'
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `claim check failed: ${err.claim} (${err.reason})`
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature verification failed'
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no matching key in the issuer JWKS'
  if (err?.code === 'ERR_JWS_INVALID' || err?.code === 'ERR_JWT_INVALID') return 'malformed JWT'
  return err?.message ?? 'invalid token'
}

function sha256b64url(value) {
  return createHash('sha256').update(value).digest('base64url')
}

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

  const seenJti = new Map() // jti -> expiry ms
  let nonce = randomBytes(16).toString('base64url')
  let previousNonce
  const dpopState = { requireNonce: dpop.requireNonce === true, alwaysNewNonce: dpop.alwaysNewNonce === true }
  const stepUp = { acr: 'urn:oauth-spa:mfa', maxAge: 300, scope: 'api:write', ...options.stepUp }

  const stats = {
    requests: 0,
    preflights: 0,
    byRoute: {},
    ok: 0,
    unauthorized: {},
    /** Authorization scheme of every non-preflight request: 'Bearer' | 'DPoP' | 'none' | other */
    schemes: [],
    log: [],
    reset() {
      stats.requests = 0
      stats.preflights = 0
      stats.byRoute = {}
      stats.ok = 0
      stats.unauthorized = {}
      stats.schemes = []
      stats.log = []
    },
  }

  const server = http.createServer()
  const actualPort = await listen(server, port)
  const origin = `http://127.0.0.1:${actualPort}`
  const audience = options.audience ?? origin

  // A switch that makes the API refuse valid tokens (401 invalid_token), for retry tests.
  let faultRule
  const faults = {
    /** Refuse the next `count` (default: every) authenticated requests to `path` (any path if omitted), optionally only `method`. */
    set({ path, method, count = Infinity } = {}) {
      faultRule = { path, method, remaining: count }
    },
    clear() {
      faultRule = undefined
    },
    take(method, path) {
      const r = faultRule
      if (!r || (r.path !== undefined && r.path !== path) || (r.method !== undefined && r.method !== method)) return false
      if (--r.remaining <= 0) faultRule = undefined
      return true
    },
  }

  function rememberJti(jti) {
    const now = Date.now()
    for (const [key, exp] of seenJti) if (exp < now) seenJti.delete(key)
    if (seenJti.has(jti)) return false
    seenJti.set(jti, now + 2 * DPOP_IAT_WINDOW * 1000 + 5000)
    return true
  }

  async function verifyDpopProof(req, path, accessToken, record) {
    const proofs = req.headersDistinct?.dpop ?? (req.headers.dpop ? [req.headers.dpop] : [])
    if (proofs.length !== 1) throw new Unauthorized('DPoP', 'invalid_dpop_proof', proofs.length ? 'more than one DPoP proof' : 'DPoP proof missing')
    let protectedHeader
    let payload
    try {
      ;({ payload, protectedHeader } = await jwtVerify(proofs[0], EmbeddedJWK, { typ: 'dpop+jwt', algorithms: DPOP_ALGS }))
    } catch (err) {
      throw new Unauthorized('DPoP', 'invalid_dpop_proof', `DPoP proof: ${describe(err)}`)
    }
    if (protectedHeader.jwk?.d !== undefined) throw new Unauthorized('DPoP', 'invalid_dpop_proof', 'DPoP proof jwk carries a private key')
    const thumbprint = await calculateJwkThumbprint(protectedHeader.jwk, 'sha256')
    // what the proof said (its signature verified), for tests; the token itself is never recorded
    record.proof = { jkt: thumbprint, jti: payload.jti ?? null, htm: payload.htm ?? null, htu: payload.htu ?? null, nonce: payload.nonce ?? null }
    if (typeof payload.jti !== 'string' || !payload.jti) throw new Unauthorized('DPoP', 'invalid_dpop_proof', 'DPoP proof jti missing')
    if (payload.htm !== req.method) throw new Unauthorized('DPoP', 'invalid_dpop_proof', 'DPoP proof htm mismatch')
    let htu
    try {
      htu = new URL(payload.htu)
      htu.search = ''
      htu.hash = ''
    } catch {
      throw new Unauthorized('DPoP', 'invalid_dpop_proof', 'DPoP proof htu invalid')
    }
    if (htu.href !== new URL(path, origin).href) throw new Unauthorized('DPoP', 'invalid_dpop_proof', 'DPoP proof htu mismatch')
    const now = Math.floor(Date.now() / 1000)
    if (typeof payload.iat !== 'number' || Math.abs(now - payload.iat) > DPOP_IAT_WINDOW) {
      throw new Unauthorized('DPoP', 'invalid_dpop_proof', 'DPoP proof iat outside the acceptable window')
    }
    if (payload.ath !== sha256b64url(accessToken)) throw new Unauthorized('DPoP', 'invalid_dpop_proof', 'DPoP proof ath mismatch')
    if (dpopState.alwaysNewNonce) {
      previousNonce = undefined
      nonce = randomBytes(16).toString('base64url')
      throw new Unauthorized('DPoP', 'use_dpop_nonce', 'a new DPoP nonce is required on every request', { nonce: true })
    }
    if (dpopState.requireNonce && payload.nonce !== nonce && !(previousNonce && payload.nonce === previousNonce)) {
      throw new Unauthorized('DPoP', 'use_dpop_nonce', payload.nonce ? 'stale DPoP nonce' : 'DPoP nonce required', { nonce: true })
    }
    if (!rememberJti(payload.jti)) throw new Unauthorized('DPoP', 'invalid_dpop_proof', 'DPoP proof jti replayed')
    return { thumbprint, nonce: payload.nonce }
  }

  async function authenticate(req, path, record) {
    const header = req.headers.authorization
    if (!header) {
      record.scheme = 'none'
      throw new Unauthorized('Bearer', undefined, undefined)
    }
    const m = /^(\S+) +(\S+)$/.exec(header)
    if (!m) {
      record.scheme = 'malformed'
      throw new Unauthorized('Bearer', 'invalid_request', 'malformed Authorization header')
    }
    const [, rawScheme, token] = m
    const scheme = rawScheme.toLowerCase() === 'bearer' ? 'Bearer' : rawScheme.toLowerCase() === 'dpop' ? 'DPoP' : rawScheme
    record.scheme = scheme
    record.dpopProof = Boolean(req.headers.dpop)
    if (scheme !== 'Bearer' && scheme !== 'DPoP') throw new Unauthorized('Bearer', 'invalid_request', 'unsupported authorization scheme')

    let payload
    try {
      ;({ payload } = await jwtVerify(token, jwks, { issuer, audience, typ: 'at+jwt', algorithms: ACCESS_TOKEN_ALGS, requiredClaims: ['exp', 'iat', 'sub'] }))
    } catch (err) {
      // which token was refused, and when it expired (ids and times only, never the token)
      try {
        const claims = decodeJwt(token)
        record.jti = claims.jti ?? null
        record.exp = claims.exp ?? null
      } catch {
        // not a JWT at all
      }
      throw new Unauthorized(scheme, 'invalid_token', describe(err))
    }
    record.sub = payload.sub
    record.jti = payload.jti ?? null
    record.exp = payload.exp ?? null
    const jkt = payload.cnf?.jkt
    if (scheme === 'Bearer') {
      if (jkt) throw new Unauthorized('Bearer', 'invalid_token', 'DPoP-bound access token presented as a Bearer token')
      return { claims: payload, scheme }
    }
    if (!jkt) throw new Unauthorized('DPoP', 'invalid_token', 'access token is not DPoP-bound')
    const proof = await verifyDpopProof(req, path, token, record)
    if (proof.thumbprint !== jkt) throw new Unauthorized('DPoP', 'invalid_token', 'DPoP proof key does not match the token binding (cnf.jkt)')
    return { claims: payload, scheme }
  }

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
      if (err.extra.nonce || (dpopState.requireNonce && err.scheme === 'DPoP')) headers['DPoP-Nonce'] = nonce
      finish(401, { error: key, error_description: err.description }, headers)
      return
    }
    stats.schemes.push(record.scheme)

    const extra = auth.scheme === 'DPoP' && dpopState.requireNonce ? { 'DPoP-Nonce': nonce } : {}
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
      previousNonce = nonce
      nonce = randomBytes(16).toString('base64url')
      return nonce
    },
    get dpopNonce() {
      return nonce
    },
    async close() {
      await stopServer(server)
    },
  }
}

/**
 * A foreign-origin server that must never see a token. Permissive CORS (it even allows the
 * Authorization header, so a leaking client would actually send it), records every request.
 */
export async function startEchoServer({ port = 0 } = {}) {
  const requests = []
  const server = http.createServer(async (req, res) => {
    const body = req.method === 'GET' || req.method === 'HEAD' ? '' : await readBody(req).catch(() => '')
    const url = new URL(req.url, 'http://127.0.0.1')
    const record = {
      at: Date.now(),
      method: req.method,
      path: url.pathname,
      search: url.search,
      headers: { ...req.headers },
      preflight: req.method === 'OPTIONS',
    }
    requests.push(record)
    const headers = {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Expose-Headers': '*',
      'Cache-Control': 'no-store',
    }
    if (req.method === 'OPTIONS') {
      // `Access-Control-Allow-Headers: *` does not cover Authorization, so reflect the request
      headers['Access-Control-Allow-Headers'] = req.headers['access-control-request-headers'] ?? '*'
      headers['Access-Control-Allow-Methods'] = req.headers['access-control-request-method'] ?? '*'
      res.writeHead(204, headers)
      res.end()
      return
    }
    const headerNames = Object.keys(req.headers)
    sendJson(res, 200, { method: req.method, path: url.pathname, headerNames, bodyLength: body.length }, headers)
  })
  const actualPort = await listen(server, port)
  const origin = `http://127.0.0.1:${actualPort}`
  return {
    url: origin,
    origin,
    port: actualPort,
    requests,
    /** requests (incl. preflights) that carried or announced an Authorization or DPoP header */
    leaks() {
      return requests.filter((r) => {
        if (r.headers.authorization !== undefined || r.headers.dpop !== undefined) return true
        const announced = String(r.headers['access-control-request-headers'] ?? '').toLowerCase().split(',').map((s) => s.trim())
        return announced.includes('authorization') || announced.includes('dpop')
      }).map((r) => ({ method: r.method, path: r.path, preflight: r.preflight, headerNames: Object.keys(r.headers) }))
    },
    reset() {
      requests.length = 0
    },
    async close() {
      await stopServer(server)
    },
  }
}
