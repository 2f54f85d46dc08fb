/**
 * Maps what oauth4webapi and `fetch` throw to `OAuthError`, redacting on the way: oauth4webapi's
 * errors embed whole responses (token responses included), so only names, codes, messages and
 * statuses survive into the cause the app sees.
 *
 * @module
 */
import * as oauth from 'oauth4webapi'
import { OAuthError, type OAuthErrorCode } from '../errors.js'
import { redact as baseRedact, statusOf, type RedactedCause } from './redact.js'

export type { RedactedCause }

/** oauth4webapi's error classes by their own names: a minified bundle renames the classes. */
const NAMED: [new (...args: never[]) => Error, string][] = [
  [oauth.ResponseBodyError, 'ResponseBodyError'],
  [oauth.AuthorizationResponseError, 'AuthorizationResponseError'],
  [oauth.WWWAuthenticateChallengeError, 'WWWAuthenticateChallengeError'],
  [oauth.OperationProcessingError, 'OperationProcessingError'],
]

/** Strips an error down to name, message, code and status, naming oauth4webapi's errors. */
export function redact(e: unknown): RedactedCause | undefined {
  return baseRedact(e, e instanceof Error ? NAMED.find(([type]) => e instanceof type)?.[1] : undefined)
}

/** An `error_description` (text from a remote party, maybe from a crafted URL) cut to 1,000 characters. */
function bounded(description: string | undefined): string | undefined {
  return description !== undefined && description.length > 1000 ? `${description.slice(0, 1000)}…` : description
}

function isNetworkFailure(e: unknown): boolean {
  // fetch rejects with a plain TypeError ("Failed to fetch"); oauth4webapi's own TypeErrors carry a code.
  return e instanceof TypeError && (e as { code?: unknown }).code === undefined
}

function isTimeout(e: unknown): boolean {
  return (e instanceof DOMException || e instanceof Error) && (e.name === 'TimeoutError' || e.name === 'AbortError')
}

/**
 * Converts any failure of a provider request to an `OAuthError`.
 *
 * @param what What was being done, for the message ("refresh", "code exchange", …).
 * @param fallback The code for a response that is malformed or fails validation.
 */
export function toOAuthError(e: unknown, what: string, fallback: OAuthErrorCode): OAuthError {
  if (e instanceof OAuthError) return e
  const cause = redact(e)
  if (isTimeout(e)) return new OAuthError('timeout', `${what}: the provider did not answer in time`, { cause })
  if (isNetworkFailure(e)) return new OAuthError('network_error', `${what}: the provider could not be reached`, { cause })
  if (e instanceof oauth.AuthorizationResponseError) {
    return new OAuthError('authorization_error', `${what}: the provider answered "${e.error}"`, {
      cause,
      error: e.error,
      errorDescription: bounded(e.error_description),
    })
  }
  // oauth4webapi sends with redirect: "manual": in a browser a redirect comes back as an opaque
  // response (elsewhere as a 3xx). The provider handed out nothing, so nothing was consumed either.
  if (
    e instanceof oauth.OperationProcessingError &&
    e.cause instanceof Response &&
    (e.cause.type === 'opaqueredirect' || (e.cause.status >= 300 && e.cause.status < 400))
  ) {
    return new OAuthError('redirect_not_allowed', `${what}: the provider answered with a redirect, which is never followed`, { cause })
  }
  const status = statusOf(e)
  if (status !== undefined && status >= 500) {
    return new OAuthError('network_error', `${what}: the provider failed with HTTP ${status}`, { cause, status })
  }
  if (e instanceof oauth.ResponseBodyError) {
    // An OAuth error answer: the provider refused the request (and consumed nothing, unless it
    // says invalid_grant), e.g. invalid_scope or invalid_target for a scope or resource it will not grant.
    const code: OAuthErrorCode = e.error === 'invalid_grant' ? 'invalid_grant' : 'authorization_error'
    return new OAuthError(code, `${what}: the provider answered "${e.error}"`, {
      cause,
      status: e.status,
      error: e.error,
      errorDescription: bounded(e.error_description),
    })
  }
  const detail = e instanceof Error ? e.message : 'unexpected failure'
  return new OAuthError(fallback, `${what}: ${detail}`, { cause, status })
}

/**
 * OAuth errors of a refresh that refuse the refresh token (or the client it was issued to) itself:
 * the session cannot go on with it.
 */
const REFUSES_THE_TOKEN = new Set(['invalid_grant', 'invalid_client', 'unauthorized_client', 'invalid_token'])

function oauthErrorOf(e: unknown): string | undefined {
  if (e instanceof oauth.ResponseBodyError) return e.error
  if (e instanceof oauth.WWWAuthenticateChallengeError) return e.cause[0]?.parameters.error
  return undefined
}

/**
 * Converts a failed refresh grant to an `OAuthError`, deciding by the HTTP status and what is
 * known rather than by whether the body parsed:
 *
 * - `400`/`401` from the token endpoint without an OAuth `error` (Glewlwyd answers a dead refresh
 *   token with a bare `400`, against RFC 6749 §5.2), or with one that refuses the token or the
 *   client (`invalid_grant`, `invalid_client`, `unauthorized_client`, `invalid_token`), is the
 *   refresh token's refusal: `invalid_grant`, which ends the session. An OAuth error about the
 *   request itself (`invalid_request`, `invalid_scope`, `invalid_target`, a DPoP proof) stays
 *   `authorization_error` and keeps the session.
 * - A `200` whose body is not JSON at all (a proxy's or a firewall's page) most likely never
 *   reached the provider: `network_error`, the session and the refresh token are kept.
 * - A 5xx, a network failure or a timeout: as {@link toOAuthError} (`network_error`/`timeout`).
 * - A `200` JSON answer that fails validation stays `invalid_token_response`: the provider may
 *   have rotated the refresh token already.
 */
export function toRefreshError(e: unknown): OAuthError {
  if (e instanceof OAuthError) return e
  const status = statusOf(e)
  const error = oauthErrorOf(e)
  if ((status === 400 || status === 401) && (error === undefined || REFUSES_THE_TOKEN.has(error))) {
    return new OAuthError(
      'invalid_grant',
      error === undefined
        ? `refresh: the provider refused the refresh token (HTTP ${status} without an OAuth error body)`
        : `refresh: the provider answered "${error}" (HTTP ${status})`,
      {
        cause: redact(e),
        status,
        ...(error === undefined ? {} : { error }),
        ...(e instanceof oauth.ResponseBodyError ? { errorDescription: bounded(e.error_description) } : {}),
      },
    )
  }
  if (
    e instanceof oauth.OperationProcessingError &&
    (e.code === oauth.RESPONSE_IS_NOT_JSON || e.code === oauth.PARSE_ERROR) &&
    (status === undefined || (status >= 200 && status < 300))
  ) {
    return new OAuthError('network_error', 'refresh: the answer was not JSON (a proxy or firewall page?); the session is kept', {
      cause: redact(e),
      ...(status === undefined ? {} : { status }),
    })
  }
  return toOAuthError(e, 'refresh', 'invalid_token_response')
}

/**
 * Converts a failed revocation (RFC 7009) to an `OAuthError`: a refusal by status (`401` when
 * the endpoint wants client authentication, any 4xx) is `authorization_error` with the status,
 * never `network_error`.
 */
export function toRevocationError(e: unknown): OAuthError {
  if (e instanceof OAuthError) return e
  const status = statusOf(e)
  if (status !== undefined && status >= 400 && status < 500) {
    const error = oauthErrorOf(e)
    return new OAuthError(
      'authorization_error',
      `revocation: the provider refused it with HTTP ${status}${error === undefined ? '' : ` "${error}"`}; the refresh token may still be valid at the provider`,
      { cause: redact(e), status, ...(error === undefined ? {} : { error }) },
    )
  }
  return toOAuthError(e, 'revocation', 'network_error')
}
