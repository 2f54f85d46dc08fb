/**
 * What the session knows of its tokens without refreshing: whether an access token is fresh, the
 * records it stores, and the errors that end a session. Always loaded (the hot path needs
 * `isFresh`); the refresh coordinator (`refresh.ts`) loads on first need.
 *
 * @module
 */
import type { Config } from '../config.js'
import type { OAuthError } from '../errors.js'
import type { AcceptedTokens } from '../provider/token-response.js'
import { RECORD_VERSION, type AccessTokenRecord, type SessionRecord } from '../store/records.js'

/** Errors after which the session cannot go on (the refresh token is dead or cannot be trusted). */
export const SESSION_ENDING = new WeakSet<OAuthError>()

/** Marks `error` as ending the session and returns it. */
export function endsSession(error: OAuthError): OAuthError {
  SESSION_ENDING.add(error)
  return error
}

/**
 * How long a refresh grant may run before it is aborted: far longer than callers wait (a provider
 * that answers late may have rotated the refresh token, and its answer must be kept), but not for
 * ever (the grant holds the refresh lock of every tab).
 */
export function refreshCeilingMs(config: Config): number {
  return Math.max(config.requestTimeoutMs * 4, config.requestTimeoutMs + 5000)
}

/** What a refresh grant returns. */
export interface RefreshResult {
  tokens: AcceptedTokens
  /** The session anchor with the refreshed ID token, when the response had one. */
  session?: SessionRecord
}

/** Performs a refresh grant (protocol work lives outside the session). */
export type RefreshGrant = (
  refreshToken: string,
  request: { resource: string | undefined; scope: string | undefined },
  session: SessionRecord,
) => Promise<RefreshResult>

/** What a sign-in (or a silent renewal) hands to the session. */
export interface SignIn {
  session: SessionRecord
  tokens: AcceptedTokens
  /** Key of the access token: resource and requested scope of the sign-in. */
  resource: string | undefined
}

/**
 * Silent renewal: called when the session has no refresh token or the provider refused it, before
 * the session ends. Resolves with a new sign-in (the session checks it is the same user).
 */
export type Renew = (reason: OAuthError) => Promise<SignIn>

/** Builds the access-token record of a token response. */
export function accessRecord(tokens: AcceptedTokens, sub: string | undefined, resource: string | undefined): AccessTokenRecord {
  return {
    v: RECORD_VERSION,
    sub,
    token: tokens.accessToken,
    tokenType: tokens.tokenType,
    expiresAt: tokens.expiresAt,
    issuedAt: Date.now(),
    scope: tokens.scope,
    resource,
  }
}

/**
 * Whether `record` is outside the refresh leeway. The leeway never exceeds a share of the token's
 * lifetime: a token that lives 30 s is not refreshed on every call with the default 30 s leeway.
 */
export function isFresh(config: Config, record: AccessTokenRecord | undefined): record is AccessTokenRecord {
  if (record === undefined) return false
  const life = record.issuedAt === undefined ? Infinity : record.expiresAt - record.issuedAt
  const leeway = Math.min(config.refreshLeewayMs, Math.max(life, 0) * config.refreshLeewayMaxShare)
  return record.expiresAt - leeway > Date.now()
}
