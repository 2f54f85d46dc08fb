// The API's DPoP proof checks (RFC 9449 §4.3): signature with the embedded key, htm/htu/iat/ath,
// jti replay, and the server nonce (required on demand, or refused every time for tests).
import { createHash, randomBytes } from 'node:crypto'

import { EmbeddedJWK, calculateJwkThumbprint, jwtVerify } from 'jose'

import { Unauthorized, describe } from './api-errors.mjs'

const DPOP_ALGS = ['ES256', 'EdDSA', 'Ed25519', 'RS256', 'PS256']
const DPOP_IAT_WINDOW = 60 // seconds either side

function sha256b64url(value) {
  return createHash('sha256').update(value).digest('base64url')
}

const freshNonce = () => randomBytes(16).toString('base64url')

/** The API's DPoP nonce; after a rotation the previous one stays valid once more. */
export function createDpopNonces() {
  let nonce = freshNonce()
  let previousNonce
  return {
    get current() {
      return nonce
    },
    accepts(value) {
      return value === nonce || Boolean(previousNonce && value === previousNonce)
    },
    /** Issues a new nonce; the previous one stays valid for one more rotation. */
    rotate() {
      previousNonce = nonce
      nonce = freshNonce()
      return nonce
    },
    /** Issues a new nonce and accepts no earlier one. */
    replace() {
      previousNonce = undefined
      nonce = freshNonce()
    },
  }
}

/**
 * @param {{ origin: string, dpopState: { requireNonce: boolean, alwaysNewNonce: boolean }, nonces: ReturnType<typeof createDpopNonces> }} options
 * @returns the check of one request's proof: `(req, path, accessToken, record) => { thumbprint, nonce }`,
 *   throwing Unauthorized; `record.proof` gets what a proof whose signature verified said
 */
export function createDpopVerifier({ origin, dpopState, nonces }) {
  const seenJti = new Map() // jti -> expiry ms

  function rememberJti(jti) {
    const now = Date.now()
    for (const [key, exp] of seenJti) if (exp < now) seenJti.delete(key)
    if (seenJti.has(jti)) return false
    seenJti.set(jti, now + 2 * DPOP_IAT_WINDOW * 1000 + 5000)
    return true
  }

  return async function verifyDpopProof(req, path, accessToken, record) {
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
      nonces.replace()
      throw new Unauthorized('DPoP', 'use_dpop_nonce', 'a new DPoP nonce is required on every request', { nonce: true })
    }
    if (dpopState.requireNonce && !nonces.accepts(payload.nonce)) {
      throw new Unauthorized('DPoP', 'use_dpop_nonce', payload.nonce ? 'stale DPoP nonce' : 'DPoP nonce required', { nonce: true })
    }
    if (!rememberJti(payload.jti)) throw new Unauthorized('DPoP', 'invalid_dpop_proof', 'DPoP proof jti replayed')
    return { thumbprint, nonce: payload.nonce }
  }
}
