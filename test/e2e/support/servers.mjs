// Starts the whole e2e stack on 127.0.0.1 free ports, in dependency order:
//   1. static app server (its origin is needed to register the client at the provider)
//   2. OpenID Provider (client registered with <app>/callback, <app>/logged-out, CORS for <app>)
//   3. API (needs the issuer; its own URL is the audience), registered at the provider as a resource
//   4. echo server (a foreign origin that must never see a token)
// and stops them all with close().
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { startApi, startEchoServer } from '../../../dev-provider/api.mjs'
import { startProvider } from '../../../dev-provider/provider.mjs'
import { startStatic } from '../../../demo/server/static.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
export const APP_ROOT = path.resolve(HERE, '..', 'app')
export const REPO_ROOT = path.resolve(HERE, '..', '..', '..')
export const CLIENT_ID = 'spa-e2e'

/**
 * @param {object} [options]
 * @param {object} [options.provider] extra startProvider options (accessTokenTTL, dpop, ...)
 * @param {object} [options.api] extra startApi options (dpop: { requireNonce })
 * @param {object} [options.appConfig] extra client options merged into /app-config.json
 * @param {string} [options.appRoot] folder of the app (default test/e2e/app)
 * @param {object} [options.csp] more of the app's CSP (frameSrc, frameAncestors: see demo/server/static.mjs)
 * @param {string[]} [options.moreClientIds] more clients registered at the provider like CLIENT_ID (pick one with setAppConfig({ clientId }))
 */
export async function startE2EServers(options = {}) {
  const started = []
  const state = { appConfig: { ...options.appConfig } }
  const stack = {}
  try {
    stack.app = await startStatic({
      root: options.appRoot ?? APP_ROOT,
      routes: {
        '/app-config.json': () => stack.config(),
      },
      csp: {
        connectSrc: () => [stack.provider?.issuer, stack.api?.origin, stack.echo?.origin],
        // The provider may be framed (silent renewal); who may frame the app stays 'none' unless asked.
        frameSrc: () => [stack.provider?.issuer],
        ...options.csp,
      },
      ...options.static,
    })
    started.push(stack.app)

    const app = stack.app.origin
    stack.provider = await startProvider({
      // More client ids (options.moreClientIds) are registered the same way: several clients of one
      // issuer in one app origin, sharing its storage.
      clients: [CLIENT_ID, ...(options.moreClientIds ?? [])].map((clientId) => ({
        clientId,
        redirectUris: [`${app}/callback`],
        postLogoutRedirectUris: [`${app}/logged-out`, `${app}/`],
        origins: [app],
      })),
      ...options.provider,
    })
    started.push(stack.provider)

    stack.api = await startApi({ issuer: stack.provider.issuer, allowedOrigins: [app], ...options.api })
    started.push(stack.api)
    stack.provider.addResource({ audience: stack.api.audience })

    stack.echo = await startEchoServer()
    started.push(stack.echo)
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.close()))
    throw err
  }

  const app = stack.app.origin
  stack.clientId = CLIENT_ID
  stack.redirectUri = `${app}/callback`
  stack.postLogoutRedirectUri = `${app}/logged-out`
  /** The client options served at /app-config.json (the page may override some via its query). */
  stack.config = () => ({
    issuer: stack.provider.issuer,
    clientId: CLIENT_ID,
    redirectUri: stack.redirectUri,
    postLogoutRedirectUri: stack.postLogoutRedirectUri,
    apiOrigins: [stack.api.origin],
    resource: stack.api.audience,
    allowInsecureRequests: true,
    // E2E_SDK_BUILD=standalone: the app loads the one-file build instead of dist/index.js + chunks.
    ...(process.env.E2E_SDK_BUILD ? { sdkBuild: process.env.E2E_SDK_BUILD } : {}),
    ...state.appConfig,
  })
  /** Changes /app-config.json for the next page load. */
  stack.setAppConfig = (patch) => {
    state.appConfig = { ...state.appConfig, ...patch }
  }
  stack.resetStats = () => {
    stack.provider.stats.reset()
    stack.api.stats.reset()
    stack.echo.reset()
  }
  stack.close = async () => {
    await Promise.allSettled([stack.echo, stack.api, stack.provider, stack.app].filter(Boolean).map((s) => s.close()))
  }
  return stack
}
