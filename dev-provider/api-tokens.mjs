// The API's access-token check: a JWT (typ at+jwt) of the issuer for this audience, sent as
// `Bearer <token>`, or as `DPoP <token>` with a proof by the key the token is bound to (cnf.jkt).
import { decodeJwt, jwtVerify } from 'jose'

import { Unauthorized, describe } from './api-errors.mjs'

const ACCESS_TOKEN_ALGS = ['RS256', 'PS256', 'ES256', 'EdDSA', 'Ed25519']

/**
 * @param {{ issuer: string, audience: string, jwks: ReturnType<typeof import('jose').createRemoteJWKSet>, verifyDpopProof: ReturnType<typeof import('./api-dpop.mjs').createDpopVerifier> }} options
 * @returns `(req, path, record) => { claims, scheme }`, throwing Unauthorized; `record` gets the
 *   scheme and the token's ids and times (never the token)
 */
export function createAuthenticator({ issuer, audience, jwks, verifyDpopProof }) {
  return async function authenticate(req, path, record) {
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
}
