/**
 * What the SDK checks in a token response beyond oauth4webapi: the token's syntax (a header
 * injection guard), the token type against the DPoP mode, the lifetime (default and cap), and the
 * granted scope. Only known fields are kept.
 *
 * @module
 */
import type * as oauth from 'oauth4webapi'
import { OAuthError } from '../errors.js'

/**
 * RFC 6750 §2.1 b64token (= RFC 7235 token68): the access token rides in an `Authorization`
 * header, and anything else could inject into it.
 */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/
/**
 * RFC 6749 §A.17 refresh-token = 1*VSCHAR (%x20-7E): any visible ASCII and the space. It only
 * travels form-encoded in a token request body, never in a header.
 */
const VSCHAR = /^[\x20-\x7E]+$/

/** Lifetime assumed when the response has no `expires_in`. */
export const DEFAULT_EXPIRES_IN = 300
/** Longest lifetime believed, whatever `expires_in` says. */
export const MAX_EXPIRES_IN = 24 * 60 * 60

/** The fields of a token response the SDK keeps. */
export interface AcceptedTokens {
  accessToken: string
  tokenType: 'bearer' | 'dpop'
  expiresAt: number
  scope: string
  refreshToken: string | undefined
  idToken: string | undefined
}

/**
 * Checks and trims a token response that oauth4webapi has already validated.
 *
 * @throws {OAuthError} `invalid_token_response` or `dpop_error`
 */
export function acceptTokens(
  tokens: oauth.TokenEndpointResponse,
  expected: { dpop: boolean; scope: string },
  /** When the token request was sent (the token's lifetime counts from then, not from its processing). */
  now = Date.now(),
): AcceptedTokens {
  if (!B64TOKEN.test(tokens.access_token)) {
    throw new OAuthError('invalid_token_response', 'token response: the access token has characters outside RFC 6750 b64token syntax')
  }
  if (tokens.refresh_token !== undefined && !VSCHAR.test(tokens.refresh_token)) {
    throw new OAuthError('invalid_token_response', 'token response: the refresh token has characters outside RFC 6749 §A.17 (visible ASCII)')
  }
  const type = tokens.token_type
  if (expected.dpop && type !== 'dpop') {
    throw new OAuthError('dpop_error', `token response: token_type "${type}" where DPoP was requested (no silent downgrade)`)
  }
  if (!expected.dpop && type !== 'bearer') {
    throw new OAuthError('invalid_token_response', `token response: token_type "${type}" where Bearer was expected`)
  }
  const lifetime = typeof tokens.expires_in === 'number' ? Math.min(tokens.expires_in, MAX_EXPIRES_IN) : DEFAULT_EXPIRES_IN
  return {
    accessToken: tokens.access_token,
    tokenType: type as 'bearer' | 'dpop',
    // `now` is when the request was sent; one second less covers a provider that rounds `exp`
    // down to whole seconds, so the SDK never believes a token lives longer than it does.
    expiresAt: now + Math.max(lifetime - 1, 0) * 1000,
    scope: typeof tokens.scope === 'string' && tokens.scope !== '' ? tokens.scope : expected.scope,
    refreshToken: tokens.refresh_token,
    idToken: tokens.id_token,
  }
}
