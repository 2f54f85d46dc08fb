// Helpers that drive the test app (test/e2e/app) in a Playwright page. They use the SDK only
// through its public API (window.auth), plus read-only looks at the page's storage.
import { existsSync } from 'node:fs'
import path from 'node:path'

import { expect } from '@playwright/test'

import { REPO_ROOT } from './servers.mjs'

/** The SDK file the test app loads (test/e2e/app/app.js): dist/index.js, or the standalone build with E2E_SDK_BUILD=standalone. */
export const APP_SDK = path.join(REPO_ROOT, 'dist', process.env.E2E_SDK_BUILD === 'standalone' ? 'oauth-spa.standalone.min.js' : 'index.js')

/** Fails with what to do when the SDK the test app loads has not been built. */
export function requireBuild() {
  if (!existsSync(APP_SDK)) throw new Error(`${APP_SDK} is missing: run \`npm run build\` first`)
}
export const TOKEN_STORES = ['access_tokens', 'id_tokens', 'refresh_tokens']
export const DB_NAME = 'oauth-spa'

/** Opens the app at `pathAndQuery` and waits until it has created the client. */
export async function openApp(page, servers, pathAndQuery = '/') {
  requireBuild()
  await page.goto(`${servers.app.origin}${pathAndQuery}`)
  await waitForApp(page)
}

export async function waitForApp(page) {
  await page.waitForFunction(() => window.__ready === true || window.__appError !== undefined)
  const appError = await page.evaluate(() => window.__appError)
  if (appError) throw new Error(`test app failed to start: ${appError.message}`)
}

/** Waits until the client's snapshot has the given status. */
export async function waitForStatus(page, status, timeout = 10_000) {
  await page.waitForFunction((s) => window.auth?.getSnapshot().status === s, status, { timeout })
}

/**
 * Calls auth.login(options) and waits for the provider's login form. Returns the authorization
 * request URL the SDK navigated to (the /auth request, after PAR if any).
 */
export async function startLogin(page, servers, loginOptions = {}) {
  const issuer = servers.provider.issuer
  const authRequest = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(`${issuer}/auth`))
  await page.evaluate((opts) => {
    void window.auth.login(opts)
  }, loginOptions)
  const request = await authRequest
  await page.waitForURL((u) => u.href.startsWith(`${issuer}/interaction/`))
  await expect(page.locator('input[name=login]')).toBeVisible()
  return request.url()
}

/** Fills and submits the provider's login form. */
export async function submitLogin(page, { username = 'alice', password = 'wonderland' } = {}) {
  await page.fill('input[name=login]', username)
  await page.fill('input[name=password]', password)
  await page.click('#submit')
}

/** Waits for the app's callback handling (started by app.js) and returns its outcome. */
export async function callbackOutcome(page) {
  await waitForApp(page)
  await page.waitForFunction(() => window.__callback !== undefined, undefined, { timeout: 15_000 })
  return page.evaluate(() => window.__callback)
}

/**
 * Full sign-in through the real provider. Returns { result, callbackUrl, authorizationUrl }.
 */
export async function signIn(page, servers, { username, password, ...loginOptions } = {}) {
  const app = servers.app.origin
  const authorizationUrl = await startLogin(page, servers, loginOptions)
  const callbackRequest = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(`${app}/callback`))
  await submitLogin(page, { username, password })
  const callbackUrl = (await callbackRequest).url()
  await page.waitForURL((u) => u.origin === app)
  const result = await callbackOutcome(page)
  return { result, callbackUrl, authorizationUrl }
}

/** Signs in and checks that it worked; returns the same as signIn. */
export async function signedIn(page, servers, opts) {
  await openApp(page, servers, opts?.path ?? '/')
  const out = await signIn(page, servers, opts)
  expect(out.result, 'sign-in through the provider failed').toMatchObject({ ok: true })
  await waitForStatus(page, 'authenticated')
  return out
}

/** Every IndexedDB database of the page's origin, every store, every record (CryptoKeys summarised). */
export function dumpIndexedDb(page) {
  return page.evaluate(async () => {
    // A request that never settles (an open blocked behind a deletion in progress) fails after
    // 10 s and says which step hung, instead of eating the whole test timeout.
    const req = (r, step) => new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`dumpIndexedDb: ${step} did not settle within 10 s`)), 10_000)
      r.onsuccess = () => (clearTimeout(timer), resolve(r.result))
      r.onerror = () => (clearTimeout(timer), reject(r.error))
      r.onblocked = () => (clearTimeout(timer), reject(new Error(`dumpIndexedDb: ${step} was blocked by another connection`)))
    })
    const safe = (v) => {
      if (v === null || typeof v !== 'object') return typeof v === 'bigint' ? String(v) : v
      if (typeof CryptoKey !== 'undefined' && v instanceof CryptoKey) {
        return { __type: 'CryptoKey', type: v.type, extractable: v.extractable, algorithm: v.algorithm?.name }
      }
      if (v instanceof ArrayBuffer || ArrayBuffer.isView(v)) return { __type: 'bytes', length: v.byteLength }
      if (v instanceof Date) return v.toISOString()
      if (Array.isArray(v)) return v.map(safe)
      if (v instanceof Map) return { __type: 'Map', entries: [...v].map(([k, x]) => [safe(k), safe(x)]) }
      const o = {}
      for (const [k, x] of Object.entries(v)) o[k] = safe(x)
      return o
    }
    const out = {}
    const list = await Promise.race([
      indexedDB.databases(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('dumpIndexedDb: indexedDB.databases() did not settle within 10 s')), 10_000)),
    ])
    for (const { name, version } of list) {
      const db = await req(indexedDB.open(name), `indexedDB.open(${name})`)
      const stores = {}
      for (const storeName of Array.from(db.objectStoreNames)) {
        const store = db.transaction(storeName, 'readonly').objectStore(storeName)
        const [keys, values] = await Promise.all([req(store.getAllKeys(), `${storeName}.getAllKeys`), req(store.getAll(), `${storeName}.getAll`)])
        stores[storeName] = keys.map((key, i) => ({ key: safe(key), value: safe(values[i]) }))
      }
      db.close()
      out[name] = { version, stores }
    }
    return out
  })
}

/** The SDK's token records for this client: { access: [...], id: [...], refresh: [...] } (values). */
export async function readTokens(page, servers) {
  const dump = await dumpIndexedDb(page)
  const stores = dump[DB_NAME]?.stores ?? {}
  const prefix = `${servers.provider.issuer}|${servers.clientId}`
  const pick = (name) => (stores[name] ?? []).filter((r) => String(r.key).startsWith(prefix))
  return {
    dump,
    access: pick('access_tokens'),
    id: pick('id_tokens'),
    refresh: pick('refresh_tokens'),
    transactions: pick('transactions'),
  }
}

/** Token values only: { accessToken, refreshToken, idToken } (undefined when absent). */
export async function tokenValues(page, servers) {
  const t = await readTokens(page, servers)
  return {
    accessToken: t.access[0]?.value.token,
    accessTokens: t.access.map((r) => r.value.token),
    refreshToken: t.refresh[0]?.value.token,
    idToken: t.id[0]?.value.idToken,
    records: t,
  }
}

/** localStorage, sessionStorage, document.cookie and the URL of the page. */
export function webStorage(page) {
  return page.evaluate(() => {
    const all = (s) => Object.fromEntries(Array.from({ length: s.length }, (_, i) => s.key(i)).map((k) => [k, s.getItem(k)]))
    return { localStorage: all(localStorage), sessionStorage: all(sessionStorage), cookie: document.cookie, href: location.href }
  })
}

/** Seconds until the JWT expires (negative once expired). */
export function secondsLeft(jwt) {
  const payload = JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url'))
  return payload.exp - Date.now() / 1000
}

/**
 * Waits until the access token is past `exp - leeway` (plus a margin), so the SDK must refresh.
 * `exp` is whole seconds and the SDK counts from when it received the token (up to ~1 s later),
 * hence the default margin.
 */
export async function waitUntilExpiring(jwt, leewaySeconds, marginSeconds = 1.3) {
  const waitMs = (secondsLeft(jwt) - leewaySeconds + marginSeconds) * 1000
  if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs))
}

/** Events the app recorded: [{ name, at, payload }]. */
export function events(page, name) {
  return page.evaluate((n) => window.__events.filter((e) => !n || e.name === n), name)
}

/** The page's window.e2e wrappers: public API calls that return plain data. */
/**
 * Calls auth.fetch(url) in every page at the same moment (each page spins until a shared start
 * time); resolves with `{ started, result }` per page, `started` as that page saw it. The start
 * time is far enough ahead for every page to get its call first: at least 400 ms, and five times
 * the slowest round trip to the pages just measured (a loaded machine delays a page's evaluate by
 * more than 400 ms: a CI run saw one page start 136 ms late).
 */
export async function callTogether(pages, url) {
  const t = Date.now()
  await Promise.all(pages.map((p) => p.evaluate(() => 0)))
  const startAt = Date.now() + Math.max(400, 5 * (Date.now() - t))
  return Promise.all(pages.map((p) => p.evaluate(async ([u, t0]) => {
    while (Date.now() < t0) await new Promise((r) => setTimeout(r, 0))
    const started = Date.now()
    const result = await window.e2e.call(u)
    return { started, result }
  }, [url, startAt])))
}

export const call = (page, url, init) => page.evaluate(([u, i]) => window.e2e.call(u, i), [url, init])
export const token = (page, opts) => page.evaluate((o) => window.e2e.token(o), opts)
export const snapshot = (page) => page.evaluate(() => window.e2e.snapshot())

/** Records of the SDK's token stores, across every key (not only this client's). */
export async function tokenStoreRecords(page) {
  const dump = await dumpIndexedDb(page)
  const stores = dump[DB_NAME]?.stores ?? {}
  return Object.fromEntries(TOKEN_STORES.map((s) => [s, stores[s] ?? []]))
}

/** Opens another tab of the app in the same context (shared IndexedDB) and waits for the session there. */
export async function openSignedInTab(context, servers) {
  const tab = await context.newPage()
  await openApp(tab, servers, '/')
  await waitForStatus(tab, 'authenticated')
  return tab
}

/** After logout() left for the provider's end-session page: confirms there and waits for /logged-out, signed out. */
export async function confirmProviderLogout(page, servers) {
  await page.waitForURL((u) => u.href.startsWith(`${servers.provider.issuer}/session/end`))
  await page.click('#logout-yes')
  await page.waitForURL((u) => u.origin === servers.app.origin && u.pathname === '/logged-out')
  await waitForApp(page)
  await waitForStatus(page, 'unauthenticated')
}
