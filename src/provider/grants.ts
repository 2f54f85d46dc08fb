/**
 * Token endpoint grants through oauth4webapi: the authorization code grant (with nonce and a
 * required ID token under `openid`) and the refresh grant (with the OIDC Core §12.2 check of a
 * refreshed ID token against the original). A DPoP nonce demanded by the provider costs one retry.
 *
 * @module
 */
import * as oauth from 'oauth4webapi'
import { OAuthError } from '../errors.js'
import type { SessionRecord } from '../store/records.js'
import type { User } from '../types.js'
import { toOAuthError, toRefreshError } from './errors.js'
import type { Provider } from './provider.js'
import { acceptTokens, type AcceptedTokens } from './token-response.js'
import { fetchUserInfo } from './userinfo.js'

/** Runs `request` again, once, when the provider demands a DPoP nonce (it was cached from the first answer). */
export async function withDpopNonceRetry<T>(request: () => Promise<T>): Promise<T> {
  try {
    return await request()
  } catch (e) {
    if (oauth.isDPoPNonceError(e)) return request()
    throw e
  }
}

/** The validated result of a grant. */
export interface GrantResult {
  tokens: AcceptedTokens
  /** Validated ID token claims, when the response had an ID token. */
  claims: User | undefined
}

function claimsOf(tokens: oauth.TokenEndpointResponse): User | undefined {
  const claims = oauth.getValidatedIdTokenClaims(tokens)
  return claims ? (Object.freeze({ ...claims }) as unknown as User) : undefined
}

/**
 * Sends a grant with the options every grant carries (timeout, `resource` and `scope` when given,
 * the DPoP proof), retries once on a DPoP nonce demand, and maps failures to `OAuthError`.
 */
async function grant(
  provider: Provider,
  what: string,
  params: { resource: string | undefined; scope?: string | undefined; dpop: oauth.DPoPHandle | undefined; timeoutMs?: number | undefined },
  send: (as: oauth.AuthorizationServer, client: oauth.Client, options: oauth.TokenEndpointRequestOptions) => Promise<oauth.TokenEndpointResponse>,
  mapError: (e: unknown) => OAuthError = (e) => toOAuthError(e, what, 'invalid_token_response'),
): Promise<oauth.TokenEndpointResponse> {
  const as = await provider.metadata()
  const additionalParameters: Record<string, string> = {}
  if (params.resource !== undefined) additionalParameters['resource'] = params.resource
  if (params.scope !== undefined) additionalParameters['scope'] = params.scope
  try {
    return await withDpopNonceRetry(() =>
      send(as, provider.client(as), {
        ...provider.requestOptions(),
        // A refresh is not abandoned at the request timeout (the provider may be rotating): its own limit.
        ...(params.timeoutMs === undefined ? {} : { signal: () => AbortSignal.timeout(params.timeoutMs!) }),
        additionalParameters,
        ...(params.dpop ? { DPoP: params.dpop } : {}),
      }),
    )
  } catch (e) {
    throw mapError(e)
  }
}

/** Redeems an authorization code. */
export async function exchangeCode(
  provider: Provider,
  request: {
    params: URLSearchParams
    redirectUri: string
    codeVerifier: string
    nonce: string | undefined
    /** The `max_age` of the authorization request: `auth_time` must then be present and recent enough. */
    maxAge?: number | undefined
    resource: string | undefined
    scope: string
    dpop: oauth.DPoPHandle | undefined
    /**
     * Opt-in UserInfo (`userInfo: true`): fetched once, after the code was redeemed; `report`
     * receives its failure, which never fails the sign-in.
     */
    userInfo?: { report(error: OAuthError): void } | undefined
  },
): Promise<GrantResult> {
  const sentAt = Date.now()
  const tokens = await grant(provider, 'code exchange', { resource: request.resource, dpop: request.dpop }, async (as, client, options) =>
    oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, oauth.None(), request.params, request.redirectUri, request.codeVerifier, options),
      {
        expectedNonce: request.nonce ?? oauth.expectNoNonce,
        requireIdToken: request.scope.split(' ').includes('openid'),
        ...(request.maxAge === undefined ? {} : { maxAge: request.maxAge }),
      },
    ),
  )
  const accepted = acceptTokens(tokens, { dpop: request.dpop !== undefined, scope: request.scope }, sentAt)
  const claims = claimsOf(tokens)
  if (!request.userInfo || !claims) return { tokens: accepted, claims }
  try {
    return { tokens: accepted, claims: await fetchUserInfo(provider, accepted, claims, request.dpop) }
  } catch (e) {
    request.userInfo.report(e instanceof OAuthError ? e : toOAuthError(e, 'userinfo', 'invalid_token_response'))
    return { tokens: accepted, claims }
  }
}

function sameAudience(a: unknown, b: unknown): boolean {
  const list = (v: unknown) => (Array.isArray(v) ? [...v].map(String).sort() : [String(v)])
  const x = list(a)
  const y = list(b)
  return x.length === y.length && x.every((v, i) => v === y[i])
}

/**
 * OIDC Core §12.2: a refreshed ID token keeps `iss`, `sub`, `aud` (and `azp`, and `auth_time`
 * when both have it) of the original.
 */
export function checkRefreshedClaims(original: User, refreshed: User): string | undefined {
  for (const claim of ['iss', 'sub', 'azp'] as const) {
    if (original[claim] !== refreshed[claim]) return claim
  }
  if (!sameAudience(original['aud'], refreshed['aud'])) return 'aud'
  if (original['auth_time'] !== undefined && refreshed['auth_time'] !== undefined && original['auth_time'] !== refreshed['auth_time']) {
    return 'auth_time'
  }
  return undefined
}

/** A refresh grant's result, with the session anchor to store when the ID token was refreshed. */
export interface RefreshGrantResult {
  tokens: AcceptedTokens
  session: SessionRecord | undefined
}

/**
 * Redeems the refresh token. Failures are classified by {@link toRefreshError}: a refusal by the
 * token endpoint (400/401, JSON or not) is `invalid_grant`; the network, a 5xx, a timeout or an
 * answer that is not JSON at all are network-class and keep the session.
 */
export async function refreshTokens(
  provider: Provider,
  request: {
    refreshToken: string
    resource: string | undefined
    scope: string | undefined
    session: SessionRecord
    dpop: oauth.DPoPHandle | undefined
    /** Abort only after this long (default: the request timeout). Callers stop waiting earlier. */
    timeoutMs?: number | undefined
    /** With `userInfo: true` the claims UserInfo added at sign-in outlive a refreshed ID token. */
    userInfo?: boolean | undefined
  },
): Promise<RefreshGrantResult> {
  const sentAt = Date.now()
  const tokens = await grant(
    provider,
    'refresh',
    request,
    async (as, client, options) =>
      oauth.processRefreshTokenResponse(as, client, await oauth.refreshTokenGrantRequest(as, client, oauth.None(), request.refreshToken, options)),
    toRefreshError,
  )
  const accepted = acceptTokens(tokens, { dpop: request.dpop !== undefined, scope: request.scope ?? request.session.scope }, sentAt)
  const claims = claimsOf(tokens)
  if (!claims || tokens.id_token === undefined) return { tokens: accepted, session: undefined }
  const original = request.session.claims
  const mismatch = original ? checkRefreshedClaims(original, claims) : 'sub'
  if (mismatch) {
    throw new OAuthError(
      'invalid_token_response',
      `refresh: the refreshed ID token's "${mismatch}" differs from the original (OIDC Core §12.2); the refresh was discarded`,
    )
  }
  const kept = request.userInfo && original ? (Object.freeze({ ...original, ...claims }) as User) : claims
  return { tokens: accepted, session: { ...request.session, idToken: tokens.id_token, claims: kept } }
}
