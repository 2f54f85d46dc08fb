/**
 * Logout: the local wipe first (every store, every tab), then revocation of the refresh token
 * (RFC 7009) where the provider offers it to public clients, then RP-initiated logout at the
 * end-session endpoint with a fresh `state`, checked when the browser comes back (OIDC
 * RP-Initiated Logout §2/§3). A failed revocation never blocks the logout; it is reported through
 * the `error` event.
 *
 * @module
 */
import * as oauth from 'oauth4webapi'
import type { Config } from '../config.js'
import { OAuthError } from '../errors.js'
import { toOAuthError, toRevocationError } from '../provider/errors.js'
import type { Provider } from '../provider/provider.js'
import type { Session } from '../session/session.js'
import type { LogoutOptions } from '../types.js'
import { withWebStorage } from '../store/web-storage.js'
import { currentOrigin } from './return-to.js'
import { logoutPendingKey, samePath } from './detect.js'

/** How long a logout's `state` waits for the browser to come back from the end-session page. */
const LOGOUT_STATE_TTL_MS = 10 * 60 * 1000

/** The pending logout of this tab: its `state` (no secret, it travels in the URL) and landing page. */
interface PendingLogout {
  state: string
  target: string
  expiresAt: number
}

const pendingKey = (config: Config) => logoutPendingKey(config.namespace)

/**
 * Whether the provider accepts revocation from a public client. RFC 8414 §2: a listed
 * `revocation_endpoint_auth_methods_supported` without `none` means it wants client authentication,
 * which a public client cannot give; sending the token anyway would only be refused.
 */
function revocationAcceptsPublicClients(as: oauth.AuthorizationServer): boolean {
  const methods = as.revocation_endpoint_auth_methods_supported
  return !Array.isArray(methods) || methods.includes('none')
}

/**
 * Checks the browser's return from the end-session endpoint (SECURITY-CHECKLIST 56): on the
 * landing page of this tab's pending logout, `state` must be the one sent. A match is stripped from
 * the address bar; a missing or different `state` is reported through `report` as `invalid_state`
 * (the local session ended before the browser left, so nothing else follows from it). Call it once
 * when the page loads.
 */
export function completeLogoutReturn(config: Config, report: (error: OAuthError) => void, href?: string): void {
  const key = pendingKey(config)
  const raw = withWebStorage('sessionStorage', (s) => s.getItem(key))
  if (raw === undefined || raw === null) return
  let pending: PendingLogout | undefined
  try {
    const parsed = JSON.parse(raw) as Partial<PendingLogout>
    if (typeof parsed.state === 'string' && typeof parsed.target === 'string' && typeof parsed.expiresAt === 'number') {
      pending = parsed as PendingLogout
    }
  } catch {
    // unreadable: dropped below
  }
  const current = href ?? (typeof location === 'undefined' ? undefined : location.href)
  if (!pending || pending.expiresAt <= Date.now() || current === undefined) {
    withWebStorage('sessionStorage', (s) => s.removeItem(key))
    return
  }
  const url = new URL(current)
  if (!samePath(url, new URL(pending.target))) return
  withWebStorage('sessionStorage', (s) => s.removeItem(key))
  const state = url.searchParams.get('state')
  if (state !== null) {
    url.searchParams.delete('state')
    if (href === undefined && typeof history !== 'undefined') history.replaceState(history.state, '', url.href)
  }
  if (state !== pending.state) {
    const error = new OAuthError(
      'invalid_state',
      state === null
        ? 'logout: the provider came back without the state it was sent; signed out here all the same'
        : 'logout: the provider came back with another state than it was sent; signed out here all the same',
    )
    // Asynchronous, so a listener attached right after createOAuthClient sees it.
    setTimeout(() => report(error), 0)
  }
}

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
  if (typeof returnTo !== 'string') throw new OAuthError('configuration_error', 'logout: "returnTo" must be a string (a path or URL on the app\'s origin)')
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

/**
 * After the local sign-out (`signedOut`: the session's {@link Session.signOut}, which the client
 * starts before this code loads), revokes the refresh token and leaves for the provider's
 * end-session endpoint unless `localOnly`. `options` is an object or undefined (the client drops others).
 */
export async function logout(deps: LogoutDeps, options: LogoutOptions = {}, signedOut: ReturnType<Session['signOut']>): Promise<void> {
  // A refused returnTo never stops the logout: it falls back and is reported, as login() does.
  let target: string | undefined
  try {
    target = landing(deps.config, options.returnTo)
  } catch (e) {
    deps.report(e as OAuthError)
    target = deps.config.postLogoutRedirectUri
  }
  const { refreshToken, idToken, error } = await signedOut
  if (error) deps.report(error)

  let as: oauth.AuthorizationServer | undefined
  try {
    as = await deps.provider.metadata()
  } catch (e) {
    deps.report(toOAuthError(e, 'logout', 'network_error'))
  }

  if (as && refreshToken && typeof as.revocation_endpoint === 'string' && revocationAcceptsPublicClients(as)) {
    try {
      const response = await oauth.revocationRequest(as, deps.provider.client(as), oauth.None(), refreshToken, {
        ...deps.provider.requestOptions(),
        additionalParameters: { token_type_hint: 'refresh_token' },
      })
      await oauth.processRevocationResponse(response)
    } catch (e) {
      deps.report(toRevocationError(e))
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
    if (target) {
      url.searchParams.set(deps.config.endSession.returnToParameter, target)
      // OIDC RP-Initiated Logout: a fresh state, checked on return (completeLogoutReturn). Some
      // providers (Glewlwyd 2.7) only send the browser back to post_logout_redirect_uri with one.
      // A provider's own logout URL (Cognito's logout_uri, Auth0's returnTo) returns no state.
      if (deps.config.endSession.returnToParameter === 'post_logout_redirect_uri') {
        const state = oauth.generateRandomState()
        const pending: PendingLogout = { state, target, expiresAt: Date.now() + LOGOUT_STATE_TTL_MS }
        withWebStorage('sessionStorage', (s) => s.setItem(pendingKey(deps.config), JSON.stringify(pending)))
        url.searchParams.set('state', state)
      }
    }
    deps.navigate(url.href)
    return
  }
  if (target) deps.navigate(target)
}
