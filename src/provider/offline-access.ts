/**
 * `offline_access` as providers treat it. OpenID Connect Core §11: a provider must ignore
 * `offline_access` unless the request carries `prompt=consent` (or it has another way to obtain
 * consent); some providers do not list it at all (Google), some need it for any refresh token
 * (Okta), and some turn it into a token that outlives the SSO session (Keycloak). What the SDK
 * does about it: the default scope drops it where the provider's `scopes_supported` does not list
 * it, `offlineAccessConsent` adds `prompt=consent`, and every sign-in reports what came back.
 *
 * @module
 */
import type * as oauth from 'oauth4webapi'
import { OAuthError } from '../errors.js'
import type { SignInGrant } from '../types.js'

const OFFLINE = 'offline_access'

function has(scope: string, value: string): boolean {
  return scope.split(' ').includes(value)
}

/**
 * The scope to send. The default scope loses `offline_access` when the provider publishes
 * `scopes_supported` without it; a scope the app chose is sent as it is.
 */
export function effectiveScope(scope: string, isDefault: boolean, as: oauth.AuthorizationServer): string {
  const supported = as.scopes_supported
  if (!isDefault || !Array.isArray(supported) || supported.includes(OFFLINE) || !has(scope, OFFLINE)) return scope
  return scope
    .split(' ')
    .filter((s) => s !== OFFLINE)
    .join(' ')
}

/**
 * The `prompt` to send: with `consent` added when asked to and the scope has `offline_access`
 * (`prompt=none` is left alone: it cannot be combined with anything).
 */
export function promptFor(prompt: string | undefined, scope: string, consentForOffline: boolean): string | undefined {
  if (!consentForOffline || !has(scope, OFFLINE)) return prompt
  if (prompt === undefined || prompt === '') return 'consent'
  const values = prompt.split(' ')
  if (values.includes('none') || values.includes('consent')) return prompt
  return [...values, 'consent'].join(' ')
}

/**
 * The problem with a completed sign-in, if any: `offline_access` asked for and no refresh token
 * came (the session then ends when the access token expires). Reported through the `error` event.
 */
export function missingRefreshToken(grant: SignInGrant): OAuthError | undefined {
  if (!has(grant.requestedScope, OFFLINE) || grant.refreshToken) return undefined
  const dropped = !has(grant.grantedScope, OFFLINE)
  return new OAuthError(
    'configuration_error',
    `sign-in: "offline_access" was asked for but no refresh token came${dropped ? ' (the granted scope does not include it)' : ''}; ` +
      'the session ends when the access token expires. Providers that follow OpenID Connect Core §11 need prompt=consent ' +
      '(offlineAccessConsent: true); others must allow the refresh_token grant for this client. See docs/providers/.',
  )
}
