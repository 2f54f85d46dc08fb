// The oidc-provider configuration: clients, scopes and claims, refresh-token policy, lifetimes,
// DPoP, revocation, RP-initiated logout and resource indicators (JWT access tokens for the APIs).
import { randomBytes } from 'node:crypto'

import { errors as oidcErrors } from 'oidc-provider'
import { createMemoryAdapter } from 'oidc-provider/lib/adapters/memory_adapter.js'

import { OIDC_CLAIMS, accountFinder } from './accounts.mjs'
import { acrPolicy } from './interactions.mjs'
import { logoutSource, postLogoutSuccessSource, renderError } from './pages.mjs'

/**
 * Builds the configuration from startProvider's options (see there) and what it derived from them.
 *
 * @param {object} settings
 * @param {object[]} settings.keys the signing JWKs (private)
 * @param {Map<string, Set<string>>} settings.corsOrigins client id → origins allowed to call it
 * @param {Map<string, object>} settings.users accounts by sub
 * @param {Set<string>} settings.offlineGrants grants whose request said access_type=offline
 * @param {{ findResource: Function, resourceFromParams: Function }} settings.resources
 */
export function providerConfiguration({
  keys,
  clients,
  corsOrigins,
  users,
  accountClaims,
  oidcScopes,
  defaultResource,
  defaultResourceFrom,
  refreshTokenPolicy,
  offlineGrants,
  rotateRefreshToken,
  bindRefreshTokensToSession,
  pkceRequired,
  accessTokenTTL,
  refreshTokenTTL,
  dpop,
  acrValues,
  resources: { findResource, resourceFromParams },
}) {
  return {
    adapter: createMemoryAdapter(15),
    jwks: { keys },
    cookies: { keys: [randomBytes(32).toString('base64url')] },
    clients: clients.map((c) => ({
      client_id: c.clientId,
      client_name: c.clientName ?? c.clientId,
      application_type: 'web',
      token_endpoint_auth_method: c.clientSecret ? 'client_secret_post' : 'none',
      ...(c.clientSecret ? { client_secret: c.clientSecret } : {}),
      grant_types: c.grantTypes ?? ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: c.redirectUris,
      post_logout_redirect_uris: c.postLogoutRedirectUris ?? [],
      id_token_signed_response_alg: c.idTokenSigningAlg ?? 'RS256',
      ...(c.dpopBoundAccessTokens ? { dpop_bound_access_tokens: true } : {}),
    })),
    clientBasedCORS(_ctx, origin, client) {
      return corsOrigins.get(client.clientId)?.has(origin) ?? false
    },
    claims: { ...OIDC_CLAIMS, openid: [...OIDC_CLAIMS.openid, ...Object.keys(accountClaims)] },
    scopes: oidcScopes,
    extraParams: [...(defaultResourceFrom === 'audience' ? ['audience'] : []), ...(refreshTokenPolicy === 'access_type_offline' ? ['access_type'] : [])],
    responseTypes: ['code'],
    pkce: { required: () => pkceRequired },
    rotateRefreshToken: () => rotateRefreshToken,
    // oidc-provider drops `offline_access` from an authorization request unless it carries
    // prompt=consent (OIDC Core 11). A first-party SPA should not have to force a consent
    // screen, so this public client gets a refresh token on every code grant.
    issueRefreshToken: async (_ctx, client, code) => {
      if (!client.grantTypeAllowed('refresh_token')) return false
      if (refreshTokenPolicy === 'offline_access' || refreshTokenPolicy === 'offline_access_without_consent') return code.scopes.has('offline_access')
      if (refreshTokenPolicy === 'access_type_offline') return offlineGrants.has(code.grantId)
      return true
    },
    expiresWithSession: async () => bindRefreshTokensToSession,
    findAccount: accountFinder(users, accountClaims),
    interactions: {
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
      ...(acrValues ? { policy: acrPolicy() } : {}),
    },
    ...(acrValues
      ? {
          acrValues,
          // The access token says how and when the user authenticated (RFC 9470 §4: what an API checks).
          async extraTokenClaims(ctx, token) {
            if (token.kind !== 'AccessToken') return undefined
            const source = ctx?.oidc?.entities?.AuthorizationCode ?? ctx?.oidc?.entities?.RefreshToken
            return source ? { acr: source.acr, auth_time: source.authTime } : undefined
          },
        }
      : {}),
    ttl: {
      AccessToken: (_ctx, token) => token.resourceServer?.accessTokenTTL ?? accessTokenTTL,
      AuthorizationCode: 60,
      ClientCredentials: 600,
      DeviceCode: 600,
      BackchannelAuthenticationRequest: 600,
      PreAuthorizedCode: 600,
      IdToken: 3600,
      Interaction: 3600,
      Session: 24 * 60 * 60,
      Grant: refreshTokenTTL,
      RefreshToken(ctx, token, client) {
        // As oidc-provider's default: a rotated refresh token of a public client keeps the
        // remaining lifetime of the one it replaces (no endless sliding sessions).
        if (ctx?.oidc?.entities.RotatedRefreshToken && client.clientAuthMethod === 'none' && !token.isSenderConstrained()) {
          return ctx.oidc.entities.RotatedRefreshToken.remainingTTL
        }
        return refreshTokenTTL
      },
    },
    features: {
      devInteractions: { enabled: false },
      revocation: {
        enabled: true,
        // a client may revoke only its own tokens (a public client is silently ignored otherwise)
        async allowedPolicy(_ctx, client, token) {
          return token.clientId === client.clientId
        },
      },
      userinfo: { enabled: true },
      dPoP: {
        enabled: dpop.enabled !== false,
        nonceSecret: randomBytes(32),
        requireNonce: () => dpop.requireNonce === true,
      },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource,
        postLogoutSuccessSource,
      },
      resourceIndicators: {
        enabled: true,
        async defaultResource(ctx, _client, oneOf) {
          if (oneOf) return oneOf[0]
          return resourceFromParams(ctx.oidc.params) ?? (typeof defaultResource === 'function' ? defaultResource() : defaultResource)
        },
        // refresh and code grants without an explicit `resource` keep the granted one, so
        // they too yield a JWT for the API rather than an opaque userinfo token
        useGrantedResource: async () => true,
        async getResourceServerInfo(_ctx, indicator) {
          const resource = findResource(indicator)
          if (!resource) throw new oidcErrors.InvalidTarget(`unknown resource indicator ${indicator}`)
          return {
            audience: resource.audience,
            scope: resource.scope,
            accessTokenTTL: resource.accessTokenTTL ?? accessTokenTTL,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          }
        },
      },
    },
    renderError,
  }
}
