// Helpers of the shared engine suite (suite.mjs): they drive the test app (test/e2e/app) through
// the driver contract of README.md only, so they work in every engine. The read-only storage
// looks (IndexedDB dump, web storage, token records) come from ../support/browser-helpers.mjs,
// which only calls page.evaluate(fn, arg): the same call in the contract.
import assert from 'node:assert/strict'
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, before } from 'node:test'

import { APP_ROOT, startE2EServers } from '../support/servers.mjs'
import { requireBuild } from '../support/browser-helpers.mjs'

export const ENGINES = ['chromium', 'firefox', 'webkit']

/** The driver module of `engine` (./<engine>.mjs). */
export async function loadEngine(engine) {
  if (!ENGINES.includes(engine)) throw new Error(`E2E_ENGINE=${engine}: expected one of ${ENGINES.join(', ')}`)
  return import(`./${engine}.mjs`)
}

/** Deep partial match: every key of `expected` (recursively) equals the same key of `actual`. */
export function assertMatch(actual, expected, message) {
  const pick = (a, e) => {
    if (e === null || typeof e !== 'object' || a === null || typeof a !== 'object') return a
    if (Array.isArray(e)) return Array.isArray(a) ? e.map((x, i) => pick(a[i], x)) : a
    return Object.fromEntries(Object.keys(e).map((k) => [k, pick(a[k], e[k])]))
  }
  assert.deepStrictEqual(pick(actual, expected), expected, message ?? `got ${JSON.stringify(actual)}`)
}

export async function waitForApp(page) {
  await page.waitForFunction(() => window.__ready === true || window.__appError !== undefined)
  const appError = await page.evaluate(() => window.__appError)
  if (appError) throw new Error(`test app failed to start: ${appError.message}`)
}

export async function waitForStatus(page, status, timeout = 15_000) {
  await page.waitForFunction((s) => window.auth?.getSnapshot().status === s, { args: [status], timeout })
}

/** Opens the app at `pathAndQuery` and waits until it has created the client. */
export async function openApp(page, servers, pathAndQuery = '/') {
  requireBuild()
  await page.goto(`${servers.app.origin}${pathAndQuery}`)
  await waitForApp(page)
}

/** login() → the provider's form, filled and submitted → back at the app's /callback. */
export async function loginThroughForm(page, servers, { username = 'alice', password = 'wonderland', ...loginOptions } = {}) {
  const issuer = servers.provider.issuer
  await page.evaluate((opts) => {
    void window.auth.login(opts)
  }, loginOptions)
  await page.waitForURL((u) => u.startsWith(`${issuer}/interaction/`))
  await page.fill('input[name=login]', username)
  await page.fill('input[name=password]', password)
  await page.click('#submit')
  await page.waitForURL((u) => u.startsWith(`${servers.app.origin}/callback`))
  await waitForApp(page)
}

/** Waits for the app's own callback handling and returns its outcome. */
export async function callbackOutcome(page) {
  await page.waitForFunction(() => window.__callback !== undefined)
  return page.evaluate(() => window.__callback)
}

/** Signs in through the provider's form and checks it worked; returns the callback outcome. */
export async function signedIn(page, servers, { path: at = '/', ...opts } = {}) {
  await openApp(page, servers, at)
  await loginThroughForm(page, servers, opts)
  const result = await callbackOutcome(page)
  assertMatch(result, { ok: true, user: { sub: opts.username ?? 'alice' } }, 'sign-in through the provider failed')
  await waitForStatus(page, 'authenticated')
  return result
}

/**
 * Signs in with `?callback=manual` and handles the callback after wrapping the page's fetch, so
 * the provider's token answer is seen: the only way to know the secrets when they live in memory
 * (no IndexedDB to read them back from). Returns { result, tokens } (tokens: the code grant answer).
 */
export async function signedInCapturingTokens(page, servers, query = '') {
  await openApp(page, servers, `/?callback=manual${query ? `&${query}` : ''}`)
  await loginThroughForm(page, servers)
  await page.evaluate((tokenUrl) => {
    window.__tokenAnswers = []
    const original = window.fetch
    window.fetch = async (input, init) => {
      const response = await original(input, init)
      const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url
      if (url === tokenUrl) window.__tokenAnswers.push(await response.clone().json())
      return response
    }
  }, `${servers.provider.issuer}/token`)
  const result = await page.evaluate(() => window.e2e.handleCallback())
  assertMatch(result, { ok: true, user: { sub: 'alice' } }, 'sign-in through the provider failed')
  await waitForStatus(page, 'authenticated')
  const answers = await page.evaluate(() => window.__tokenAnswers)
  assert.equal(answers.length, 1, 'expected exactly one token answer (the code grant)')
  return { result, tokens: answers[0] }
}

/** After logout(): confirms at the provider's end-session page and waits for /logged-out, signed out. */
export async function confirmProviderLogout(page, servers) {
  await page.waitForURL((u) => u.startsWith(`${servers.provider.issuer}/session/end`))
  await page.click('#logout-yes')
  await page.waitForURL((u) => u.startsWith(`${servers.app.origin}/logged-out`))
  await waitForApp(page)
  await waitForStatus(page, 'unauthenticated')
}

/** `auth.getAccessToken()` with no argument at all, as plain data (`{ ok, token }` or `{ ok: false, error }`). */
export function currentToken(page) {
  return page.evaluate(() => window.e2e.token())
}

/** Names of every secret (and its first 24 characters) found in `haystack` (any JSON-able value). */
export function leaked(secrets, haystack) {
  const text = JSON.stringify(haystack)
  return secrets.filter((s) => text.includes(s) || text.includes(s.slice(0, 24))).map((s) => `${s.slice(0, 8)}…`)
}

/**
 * A copy of the test app whose index.html runs `script` (a classic script, in <head>: before the
 * app's module script) as /<name>.js; `probe.html` is the same origin without it.
 * Returns { root, cleanup }.
 */
export async function appWithHeadScript(name, script) {
  const root = await mkdtemp(path.join(os.tmpdir(), `oauth-spa-${name}-`))
  await cp(APP_ROOT, root, { recursive: true })
  await writeFile(path.join(root, `${name}.js`), `// e2e: ${name}\n${script}`)
  const index = await readFile(path.join(APP_ROOT, 'index.html'), 'utf8')
  const marker = '<script type="module" src="/app.js"></script>'
  assert.ok(index.includes(marker), 'test/e2e/app/index.html no longer loads /app.js as expected')
  await writeFile(path.join(root, 'index.html'), index.replace(marker, `<script src="/${name}.js"></script>\n${marker}`))
  await writeFile(path.join(root, 'probe.html'), '<!DOCTYPE html><meta charset="utf-8"><title>probe</title><p>probe</p>\n')
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) }
}

/** The test app with IndexedDB unavailable (`missing` or `open-throws`), as some private modes have it. */
export function appWithoutIndexedDb(variant) {
  const hide = {
    missing: "Object.defineProperty(window, 'indexedDB', { configurable: true, value: undefined })\n",
    'open-throws':
      "Object.defineProperty(IDBFactory.prototype, 'open', { configurable: true, value() { throw new DOMException('The user denied permission to access the database.', 'SecurityError') } })\n",
  }[variant]
  if (!hide) throw new Error(`unknown variant ${variant}`)
  return appWithHeadScript('no-idb', `// IndexedDB unavailable (${variant})\n${hide}`)
}

/**
 * `withStack(stackOptions, body)` for a suite whose browser `getBrowser()` returns: runs
 * `body(servers, newPage)` with a fresh server stack (`startStack(stackOptions)`, by default the
 * dev provider's), and closes its pages and servers after.
 */
export function stackRunner(getBrowser, startStack = startE2EServers) {
  return async (stackOptions, body) => {
    const servers = await startStack(stackOptions)
    const pages = []
    const newPage = async () => {
      const page = await getBrowser().newPage()
      pages.push(page)
      return page
    }
    try {
      await body(servers, newPage)
    } finally {
      await Promise.allSettled(pages.map((p) => p.close()))
      await servers.close()
    }
  }
}

/**
 * One browser for a suite file: launched by `driver` before its tests, closed after them. Returns
 * the suite's `withStack` (see {@link stackRunner}; `startStack` as there).
 */
export function browserPerSuite(driver, startStack) {
  let browser
  before(async () => {
    browser = await driver.launch()
  })
  after(async () => {
    await browser?.close()
  })
  return stackRunner(() => browser, startStack)
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
