// The stack of a provider spec: the e2e test app (test/e2e/app, its static server and CSP), an
// independent OpenID Provider started by `startOp`, and an API that validates that provider's
// access tokens (dev-provider/api.mjs: JWT through the provider's JWKS, Bearer or DPoP). All on
// 127.0.0.1, all stopped by close().
import { startApi } from '../../../../dev-provider/api.mjs'
import { startStatic } from '../../../../demo/server/static.mjs'
import { APP_ROOT } from '../../support/servers.mjs'

/**
 * @param {object} options
 * @param {(app: { origin: string, redirectUri: string, postLogoutRedirectUri: string }) => Promise<{ issuer: string, origin: string, clientId: string, jwksUri: string, close(): Promise<void> }>} options.startOp
 * @param {(op: object, app: object) => object} [options.api] startApi options beyond issuer and origins
 * @param {(op: object, app: object) => Promise<{ origin: string, close(): Promise<void> }>} [options.startApi] another API instead
 * @param {object} [options.appConfig] client options merged into /app-config.json
 */
export async function startProviderStack(options) {
  const started = []
  const stack = { appConfig: { ...options.appConfig } }
  try {
    stack.app = await startStatic({
      root: APP_ROOT,
      routes: { '/app-config.json': () => stack.config() },
      csp: { connectSrc: () => [stack.provider?.origin, stack.api?.origin].filter(Boolean) },
    })
    started.push(stack.app)
    const app = {
      origin: stack.app.origin,
      redirectUri: `${stack.app.origin}/callback`,
      postLogoutRedirectUri: `${stack.app.origin}/logged-out`,
    }
    stack.provider = await options.startOp(app)
    started.push(stack.provider)
    stack.api = options.startApi
      ? await options.startApi(stack.provider, app)
      : await startApi({
          issuer: stack.provider.issuer,
          jwksUri: stack.provider.jwksUri,
          allowedOrigins: [app.origin],
          ...(options.api ? options.api(stack.provider, app) : {}),
        })
    started.push(stack.api)
    stack.redirectUri = app.redirectUri
    stack.postLogoutRedirectUri = app.postLogoutRedirectUri
  } catch (e) {
    await Promise.allSettled(started.map((s) => s.close()))
    throw e
  }
  stack.config = () => ({
    issuer: stack.provider.issuer,
    clientId: stack.provider.clientId,
    redirectUri: stack.redirectUri,
    postLogoutRedirectUri: stack.postLogoutRedirectUri,
    apiOrigins: [stack.api.origin],
    allowInsecureRequests: true,
    ...stack.appConfig,
  })
  stack.setAppConfig = (patch) => {
    stack.appConfig = { ...stack.appConfig, ...patch }
  }
  stack.close = async () => {
    await Promise.allSettled([stack.api, stack.provider, stack.app].filter(Boolean).map((s) => s.close()))
  }
  return stack
}

/** The provider's discovery document, fetched from Node. */
export async function providerMetadata(servers) {
  return (await fetch(`${servers.provider.issuer}/.well-known/openid-configuration`)).json()
}

/**
 * Presents `refreshToken` at the provider's token endpoint from Node, as the stack's public client
 * (a stolen or rotated-out token replayed). Resolves with the status and the raw body text.
 */
export async function presentRefreshToken(servers, refreshToken) {
  const { token_endpoint: tokenEndpoint } = await providerMetadata(servers)
  const response = await fetch(tokenEndpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: refreshToken, client_id: servers.clientId }),
  })
  return { status: response.status, body: await response.text() }
}
