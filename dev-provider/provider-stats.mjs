// What happens at the provider, counted (`op.stats`) so that tests can assert e.g. "exactly one
// refresh grant", with a chronological event log. No token value is ever recorded.

export function createStats() {
  const stats = {
    /** successful token-endpoint grants by grant_type */
    grants: {},
    /** token-endpoint errors by OAuth error code (e.g. invalid_grant) */
    errors: {},
    /** token-endpoint errors by grant_type, then error code */
    grantErrors: {},
    /** successful RFC 7009 revocation requests */
    revocations: 0,
    /** completed RP-initiated logouts */
    endSessions: 0,
    /** refresh tokens consumed by rotation */
    refreshTokensConsumed: 0,
    /** grants revoked (by revocation, logout or refresh token reuse detection) */
    grantsRevoked: 0,
    logins: { ok: 0, failed: 0, aborted: 0 },
    /** successful authorization responses (code issued) and error responses */
    authorizations: { success: 0, error: 0 },
    /** requests by provider route name (CORS preflights counted under `preflight`) */
    requests: {},
    /** chronological log: { at, type, ... } without any token value */
    events: [],
    reset() {
      for (const key of ['grants', 'errors', 'grantErrors', 'requests']) stats[key] = {}
      stats.revocations = 0
      stats.endSessions = 0
      stats.refreshTokensConsumed = 0
      stats.grantsRevoked = 0
      stats.logins = { ok: 0, failed: 0, aborted: 0 }
      stats.authorizations = { success: 0, error: 0 }
      stats.events = []
      stats.customLogouts = []
    },
  }
  return stats
}

function bump(object, key, by = 1) {
  object[key] = (object[key] ?? 0) + by
}

/** Feeds `stats` and the event log (`log`) from the provider's events and routes. */
export function countProviderEvents(provider, stats, log) {
  provider.on('grant.success', (ctx) => {
    const grantType = ctx.oidc.params.grant_type
    bump(stats.grants, grantType)
    const at = ctx.oidc.entities.AccessToken
    log('grant.success', {
      grantType,
      // the access token's id (not the token): lets a test match a grant to the API's requests
      jti: at?.jti ?? null,
      clientId: ctx.oidc.client?.clientId,
      resourceParam: ctx.oidc.params.resource ?? null,
      dpop: Boolean(ctx.get('DPoP')),
      accessTokenFormat: at?.resourceServer ? at.resourceServer.accessTokenFormat : 'opaque',
      audience: at?.resourceServer?.audience ?? null,
      origin: ctx.get('Origin') || null,
    })
  })
  provider.on('grant.error', (ctx, err) => {
    const grantType = ctx.oidc?.params?.grant_type ?? 'unknown'
    const code = err.error ?? 'unknown'
    bump(stats.errors, code)
    stats.grantErrors[grantType] ??= {}
    bump(stats.grantErrors[grantType], code)
    log('grant.error', { grantType, error: code, description: err.error_description, detail: err.error_detail })
  })
  provider.on('refresh_token.consumed', () => {
    stats.refreshTokensConsumed += 1
    log('refresh_token.consumed')
  })
  provider.on('grant.revoked', () => {
    stats.grantsRevoked += 1
    log('grant.revoked')
  })
  provider.on('end_session.success', () => {
    stats.endSessions += 1
    log('end_session.success')
  })
  provider.on('authorization.success', () => {
    stats.authorizations.success += 1
    log('authorization.success')
  })
  provider.on('authorization.error', (_ctx, err) => {
    stats.authorizations.error += 1
    log('authorization.error', { error: err.error, description: err.error_description })
  })
  for (const event of ['revocation.error', 'end_session.error', 'end_session_confirm.error', 'discovery.error', 'jwks.error']) {
    provider.on(event, (_ctx, err) => log(event, { error: err.error, description: err.error_description }))
  }
  provider.on('server_error', (ctx, err) => {
    log('server_error', { path: ctx.path, message: err.message })
    console.error(`[provider] server_error at ${ctx.method} ${ctx.path}: ${err.message}`)
  })

  // Count requests per route, after the provider handled them.
  provider.use(async (ctx, next) => {
    await next()
    const route = ctx.oidc?.route
    if (!route) return
    if (ctx.method === 'OPTIONS') {
      bump(stats.requests, 'preflight')
      return
    }
    bump(stats.requests, route)
    if (route === 'revocation' && ctx.status === 200) {
      stats.revocations += 1
      log('revocation', { tokenTypeHint: ctx.oidc.params?.token_type_hint ?? null })
    }
  })
}
