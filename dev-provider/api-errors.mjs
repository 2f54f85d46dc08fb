// How the API refuses a request: an Unauthorized error that becomes a 401 (or a step-up 401/403)
// with a WWW-Authenticate challenge (RFC 6750, RFC 9449, RFC 9470).
import { errors as joseErrors } from 'jose'

export class Unauthorized extends Error {
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

/** A WWW-Authenticate value: `scheme` with the defined `params` as quoted strings. */
export function challenge(scheme, params) {
  const parts = Object.entries(params)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${quote(v)}`)
  return parts.length ? `${scheme} ${parts.join(', ')}` : scheme
}

/** Why jose refused a JWT, in words for error_description (never the token). */
export function describe(err) {
  if (err instanceof joseErrors.JWTExpired) return 'the access token expired'
  if (err instanceof joseErrors.JWTClaimValidationFailed) return `claim check failed: ${err.claim} (${err.reason})`
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'signature verification failed'
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'no matching key in the issuer JWKS'
  if (err?.code === 'ERR_JWS_INVALID' || err?.code === 'ERR_JWT_INVALID') return 'malformed JWT'
  return err?.message ?? 'invalid token'
}
