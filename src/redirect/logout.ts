/**
 * Logout: the local wipe first (every store, every tab), then revocation of the refresh token
 * (RFC 7009) where the provider offers it, then RP-initiated logout at the end-session endpoint.
 * A failed revocation never blocks the logout; it is reported through the `error` event.
 *
 * @module
 */
import * as oauth from 'oauth4webapi'
import type { Config } from '../config.js'
import { OAuthError } from '../errors.js'
import { toOAuthError } from '../provider/errors.js'
import type { Provider } from '../provider/provider.js'
import type { Session } from '../session/session.js'
import type { LogoutOptions } from '../types.js'
import { currentOrigin } from './return-to.js'

/** What {@link logout} needs. */
export interface LogoutDeps {
  config: Config
  provider: Provider
  session: Session
  report(error: OAuthError): void
  navigate(url: string): void
}

function landing(config: Config, returnTo: string | undefined): string | undefined {
  if (returnTo === undefined) return config.postLogoutRedirectUri
  const origin = currentOrigin()
  let url: URL
  try {
    url = new URL(returnTo, origin)
  } catch {
    throw new OAuthError('configuration_error', 'logout: "returnTo" is not a URL')
  }
  const allowed = [origin, config.postLogoutRedirectUri && new URL(config.postLogoutRedirectUri).origin]
  if (!allowed.includes(url.origin)) {
    throw new OAuthError('configuration_error', 'logout: "returnTo" must be on the app\'s origin (no open redirect)')
  }
  return url.href
}

/** Ends the session everywhere, then leaves for the provider's end-session endpoint unless `localOnly`. */
export async function logout(deps: LogoutDeps, options: LogoutOptions = {}): Promise<void> {
  if (typeof options !== 'object' || options === null) {
    throw new OAuthError('configuration_error', 'logout: options must be an object')
  }
  // A refused returnTo never stops the logout: it falls back and is reported, as login() does.
  let target: string | undefined
  try {
    target = landing(deps.config, options.returnTo)
  } catch (e) {
    deps.report(e as OAuthError)
    target = deps.config.postLogoutRedirectUri
  }
  const { refreshToken, idToken, error } = await deps.session.signOut()
  if (error) deps.report(error)

  let as: oauth.AuthorizationServer | undefined
  try {
    as = await deps.provider.metadata()
  } catch (e) {
    deps.report(toOAuthError(e, 'logout', 'network_error'))
  }

  if (as && refreshToken && typeof as.revocation_endpoint === 'string') {
    try {
      const response = await oauth.revocationRequest(as, deps.provider.client(as), oauth.None(), refreshToken, {
        ...deps.provider.requestOptions(),
        additionalParameters: { token_type_hint: 'refresh_token' },
      })
      await oauth.processRevocationResponse(response)
    } catch (e) {
      deps.report(toOAuthError(e, 'revocation', 'network_error'))
    }
  }

  if (options.localOnly) {
    if (options.returnTo !== undefined && target) deps.navigate(target)
    return
  }
  const url = as ? deps.provider.navigable(as.end_session_endpoint) : undefined
  if (as && as.end_session_endpoint !== undefined && !url) {
    deps.report(new OAuthError('configuration_error', 'logout: the provider\'s end_session_endpoint is not an https URL; signed out here only'))
  }
  if (url) {
    url.searchParams.set('client_id', deps.config.clientId)
    if (idToken && deps.config.endSession.idTokenHint) url.searchParams.set('id_token_hint', idToken)
    if (target) url.searchParams.set(deps.config.endSession.returnToParameter, target)
    deps.navigate(url.href)
    return
  }
  if (target) deps.navigate(target)
}
