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
import { toOAuthError } from './errors.js'
import type { Provider } from './provider.js'
import { acceptTokens, type AcceptedTokens } from './token-response.js'

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

function additional(resource: string | undefined, scope?: string): Record<string, string> | undefined {
  const params: Record<string, string> = {}
  if (resource !== undefined) params['resource'] = resource
  if (scope !== undefined) params['scope'] = scope
  return Object.keys(params).length > 0 ? params : undefined
}

function claimsOf(tokens: oauth.TokenEndpointResponse): User | undefined {
  const claims = oauth.getValidatedIdTokenClaims(tokens)
  return claims ? (Object.freeze({ ...claims }) as unknown as User) : undefined
}

/** Redeems an authorization code. */
export async function exchangeCode(
  provider: Provider,
  request: {
    params: URLSearchParams
    redirectUri: string
    codeVerifier: string
    nonce: string | undefined
    resource: string | undefined
    scope: string
    dpop: oauth.DPoPHandle | undefined
  },
): Promise<GrantResult> {
  const as = await provider.metadata()
  const client = provider.client(as)
  const openid = request.scope.split(' ').includes('openid')
  const sentAt = Date.now()
  let tokens: oauth.TokenEndpointResponse
  try {
    tokens = await withDpopNonceRetry(async () => {
      const additionalParameters = additional(request.resource)
      const response = await oauth.authorizationCodeGrantRequest(
        as,
        client,
        oauth.None(),
        request.params,
        request.redirectUri,
        request.codeVerifier,
        {
          ...provider.requestOptions(),
          ...(additionalParameters ? { additionalParameters } : {}),
          ...(request.dpop ? { DPoP: request.dpop } : {}),
        },
      )
      return oauth.processAuthorizationCodeResponse(as, client, response, {
        expectedNonce: request.nonce ?? oauth.expectNoNonce,
        requireIdToken: openid,
      })
    })
  } catch (e) {
    throw toOAuthError(e, 'code exchange', 'invalid_token_response')
  }
  const accepted = acceptTokens(tokens, { dpop: request.dpop !== undefined, scope: request.scope }, sentAt)
  return { tokens: accepted, claims: claimsOf(tokens) }
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
 * Redeems the refresh token. Failures other than the network's (`network_error`, `timeout`) come
 * back with `terminal: true`: the provider has consumed the refresh token or cannot be trusted.
 */
export async function refreshTokens(
  provider: Provider,
  request: {
    refreshToken: string
    resource: string | undefined
    scope: string | undefined
    session: SessionRecord
    dpop: oauth.DPoPHandle | undefined
  },
): Promise<RefreshGrantResult> {
  const as = await provider.metadata()
  const client = provider.client(as)
  const sentAt = Date.now()
  let tokens: oauth.TokenEndpointResponse
  try {
    tokens = await withDpopNonceRetry(async () => {
      const additionalParameters = additional(request.resource, request.scope)
      const response = await oauth.refreshTokenGrantRequest(as, client, oauth.None(), request.refreshToken, {
        ...provider.requestOptions(),
        ...(additionalParameters ? { additionalParameters } : {}),
        ...(request.dpop ? { DPoP: request.dpop } : {}),
      })
      return oauth.processRefreshTokenResponse(as, client, response)
    })
  } catch (e) {
    throw toOAuthError(e, 'refresh', 'invalid_token_response')
  }
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
  return { tokens: accepted, session: { ...request.session, idToken: tokens.id_token, claims } }
}
