// The stack a provider recipe is proven on: the recipes app (test/e2e/recipes/app), the bundled
// oidc-provider configured to behave as that provider documents, and an API that validates its
// JWT access tokens. Every server listens on 127.0.0.1 and is stopped by close().
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { expect, test as base } from '@playwright/test'

import { startApi } from '../../../dev-provider/api.mjs'
import { startProvider } from '../../../dev-provider/provider.mjs'
import { startStatic } from '../../../demo/server/static.mjs'

const APP_ROOT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'app')
export const CLIENT_ID = 'recipe-spa'
/** Entra-style tenant id of every account in the Entra recipe. */
export const TENANT_ID = '9188040d-6c67-4c5b-b112-36a304b66dad'

/**
 * @param {object} recipe
 * @param {(ctx: { app: string, stack: object }) => object} [recipe.provider] startProvider options (may use the app origin, and the stack's later parts in callbacks)
 * @param {(stack) => object} recipe.client the client options of the recipe (what the docs page tells the app to write)
 * @param {object} [recipe.clientEntry] extra fields of the client registration (grantTypes, clientSecret…)
 * @param {string} [recipe.resourceScope] the scope of the API resource (default 'api:read api:write')
 */
export async function startRecipe(recipe) {
  const started = []
  const stack = {}
  try {
    stack.static = await startStatic({
      root: APP_ROOT,
      routes: { '/app-config.json': () => stack.clientOptions },
      csp: { connectSrc: () => [stack.provider?.origin, stack.api?.origin] },
    })
    started.push(stack.static)
    const app = stack.static.origin
    stack.app = app
    stack.provider = await startProvider({
      clients: [{
        clientId: CLIENT_ID,
        redirectUris: [`${app}/callback`],
        postLogoutRedirectUris: [`${app}/logged-out`],
        origins: [app],
        ...recipe.clientEntry,
      }],
      ...recipe.provider?.({ app, stack }),
    })
    started.push(stack.provider)
    stack.api = await startApi({ issuer: stack.provider.issuer, jwksUri: `${stack.provider.origin}/jwks`, allowedOrigins: [app] })
    started.push(stack.api)
    stack.provider.addResource({ audience: stack.api.audience, ...(recipe.resourceScope ? { scope: recipe.resourceScope(stack) } : {}) })
    stack.clientOptions = {
      clientId: CLIENT_ID,
      redirectUri: `${app}/callback`,
      postLogoutRedirectUri: `${app}/logged-out`,
      allowInsecureRequests: true,
      ...recipe.client(stack),
    }
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.close()))
    throw err
  }
  stack.close = () => Promise.allSettled(started.map((s) => s.close()))
  return stack
}

/** Playwright test with a `recipe` option and a `stack` fixture started from it. */
export const test = base.extend({
  recipe: [undefined, { option: true }],
  stack: async ({ recipe }, use) => {
    const stack = await startRecipe(recipe)
    try {
      await use(stack)
    } finally {
      await stack.close()
    }
  },
})
export { expect }

/** Opens the app and waits until it has created the client. */
export async function openApp(page, stack, where = '/') {
  await page.goto(`${stack.app}${where}`)
  await page.waitForFunction(() => window.__ready === true || window.__appError !== undefined)
  const failed = await page.evaluate(() => window.__appError)
  if (failed) throw new Error(`recipes app failed: ${failed.message}`)
}

/**
 * login() → the provider's form → alice signs in → back on the app. Returns the authorization
 * request's URL and the callback outcome ({ ok, user, grant } or the error).
 */
export async function signIn(page, stack, loginOptions = {}) {
  const origin = stack.provider.origin
  const authRequest = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(`${origin}/auth`))
  await page.evaluate((o) => void window.auth.login(o), loginOptions)
  const authorizationUrl = new URL((await authRequest).url())
  await page.waitForURL((u) => u.href.startsWith(`${origin}/interaction/`))
  await page.fill('input[name=login]', 'alice')
  await page.fill('input[name=password]', 'wonderland')
  await page.click('#submit')
  await page.waitForURL((u) => u.origin === stack.app)
  await page.waitForFunction(() => window.__ready === true && window.__callback !== undefined)
  const outcome = await page.evaluate(() => window.__callback)
  return { authorizationUrl, outcome }
}

export const call = (page, url) => page.evaluate((u) => window.e2e.call(u), url)
export const token = (page, opts) => page.evaluate((o) => window.e2e.token(o), opts)
export const events = (page, name) => page.evaluate((n) => window.__events.filter((e) => e.name === n), name)

/** The refresh token the SDK holds for this client (read from IndexedDB, to compare across a refresh). */
export function storedRefreshToken(page) {
  return page.evaluate(async () => {
    const db = await new Promise((resolve, reject) => {
      const r = indexedDB.open('oauth-spa')
      r.onsuccess = () => resolve(r.result)
      r.onerror = () => reject(r.error)
    })
    if (!db.objectStoreNames.contains('refresh_tokens')) return undefined
    const all = await new Promise((resolve, reject) => {
      const r = db.transaction('refresh_tokens').objectStore('refresh_tokens').getAll()
      r.onsuccess = () => resolve(r.result)
      r.onerror = () => reject(r.error)
    })
    db.close()
    return all[0]?.token
  })
}
