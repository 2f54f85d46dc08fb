/**
 * Opt-in UserInfo (OIDC Core §5.3): some providers put `name`, `email` and the like only in the
 * UserInfo response, not in the ID token (§5.4 allows it). With `userInfo: true` the SDK fetches
 * it once per sign-in, with the new access token, through oauth4webapi, checks its `sub` against
 * the ID token's (§5.3.2) and merges it into the user. Claims that describe the authentication
 * itself always come from the ID token.
 *
 * @module
 */
import * as oauth from 'oauth4webapi'
import { OAuthError } from '../errors.js'
import type { User } from '../types.js'
import { redact, toOAuthError } from './errors.js'
import type { Provider } from './provider.js'
import type { AcceptedTokens } from './token-response.js'

/** ID token claims a UserInfo response never replaces. */
const FROM_ID_TOKEN_ONLY = new Set(['iss', 'sub', 'aud', 'azp', 'exp', 'iat', 'nbf', 'auth_time', 'nonce', 'acr', 'amr', 'at_hash', 'c_hash', 'sid', 'jti'])

/**
 * Merges UserInfo claims into ID token claims: UserInfo adds and updates profile claims; the
 * claims about the authentication (`iss`, `sub`, `aud`, `auth_time`, `acr`, …) stay the ID token's.
 */
export function mergeUserInfo(idClaims: User, userInfo: Record<string, unknown>): User {
  const merged: Record<string, unknown> = { ...idClaims }
  for (const [claim, value] of Object.entries(userInfo)) {
    if (!FROM_ID_TOKEN_ONLY.has(claim) && value !== undefined) merged[claim] = value
  }
  return Object.freeze(merged) as User
}

/**
 * Fetches UserInfo with a freshly issued access token and merges it into `idClaims`.
 *
 * @throws {OAuthError} `configuration_error` (no `userinfo_endpoint`), `invalid_token_response`
 * (another `sub`, a malformed answer), `authorization_error` (refused), `network_error`, `timeout`
 */
export async function fetchUserInfo(
  provider: Provider,
  tokens: Pick<AcceptedTokens, 'accessToken'>,
  idClaims: User,
  dpop: oauth.DPoPHandle | undefined,
): Promise<User> {
  const as = await provider.metadata()
  if (typeof as.userinfo_endpoint !== 'string') {
    throw new OAuthError('configuration_error', 'userinfo: the provider advertises no userinfo_endpoint; the user holds the ID token claims only')
  }
  const client = provider.client(as)
  const send = async () =>
    oauth.processUserInfoResponse(
      as,
      client,
      idClaims.sub,
      await oauth.userInfoRequest(as, client, tokens.accessToken, { ...provider.requestOptions(), ...(dpop ? { DPoP: dpop } : {}) }),
    )
  let info: oauth.UserInfoResponse
  try {
    try {
      info = await send()
    } catch (e) {
      if (!oauth.isDPoPNonceError(e)) throw e
      info = await send()
    }
  } catch (e) {
    if (e instanceof oauth.OperationProcessingError && e.code === oauth.JSON_ATTRIBUTE_COMPARISON) {
      throw new OAuthError('invalid_token_response', 'userinfo: the response is about another subject than the ID token (OIDC Core §5.3.2); it was ignored')
    }
    const status = redact(e)?.status
    if (status !== undefined && status >= 400 && status < 500) {
      throw new OAuthError('authorization_error', `userinfo: the provider refused the access token (HTTP ${status})`, { cause: redact(e), status })
    }
    throw toOAuthError(e, 'userinfo', 'invalid_token_response')
  }
  return mergeUserInfo(idClaims, info as Record<string, unknown>)
}
