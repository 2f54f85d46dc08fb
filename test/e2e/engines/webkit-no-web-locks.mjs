// Without the Web Locks API, in WebKit (MiniBrowser through webkit.mjs): every page of the app is
// served with a classic script that deletes `navigator.locks` before the SDK's module loads.
// Two tabs whose access token expired call auth.fetch at the same moment: one refresh grant at the
// provider, both tabs stay signed in (the SDK's IndexedDB lease; src/session/idb-lock.ts).
//
//   npm run build && node --test test/e2e/engines/webkit-no-web-locks.mjs
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { after, before, test } from 'node:test'

import { APP_ROOT, startE2EServers } from '../support/servers.mjs'
import { launch } from './webkit.mjs'
import { openApp, signIn, waitForStatus } from './webkit-helpers.mjs'

const LEEWAY = 1
const HIDE_LOCKS = 'delete Navigator.prototype.locks; delete navigator.locks;\n'

let servers
let browser

before(async () => {
  const html = readFileSync(path.join(APP_ROOT, 'index.html'), 'utf8')
    .replace('<script type="module"', '<script src="/no-web-locks.js"></script>\n<script type="module"')
  assert.match(html, /no-web-locks\.js/)
  const page = { headers: { 'content-type': 'text/html; charset=utf-8' }, body: html }
  let stack
  stack = await startE2EServers({
    provider: { accessTokenTTL: 5 },
    appConfig: { refreshLeewaySeconds: LEEWAY },
    static: {
      routes: {
        '/app-config.json': () => stack.config(),
        '/no-web-locks.js': { headers: { 'content-type': 'text/javascript; charset=utf-8' }, body: HIDE_LOCKS },
        '/': page,
        '/callback': page,
      },
    },
  })
  servers = stack
  browser = await launch()
})

after(async () => {
  await browser?.close()
  await servers?.close()
})

/** Starts auth.fetch in the page at wall-clock time `t0` without waiting for it (see webkit.mjs). */
const start = (page, url, t0) => page.evaluate((u, t) => {
  window.__run = (async () => {
    while (Date.now() < t) await new Promise((r) => setTimeout(r, 0))
    const started = Date.now()
    return { started, result: await window.e2e.call(u) }
  })()
  return true
}, url, t0)

test('webkit, no Web Locks: two tabs with an expired token call auth.fetch at once: one refresh grant, both stay signed in', async () => {
  const { provider, api } = servers
  const page = await browser.newPage()
  await openApp(page, servers)
  assert.equal(await page.evaluate(() => 'locks' in navigator), false, 'navigator.locks is still there')
  const signedIn = await signIn(page, servers)
  assert.equal(signedIn.ok, true, JSON.stringify(signedIn))
  await waitForStatus(page, 'authenticated')
  assert.equal(await page.evaluate(() => 'locks' in navigator), false, 'navigator.locks is back after the callback')

  const tab = await browser.newPage()
  await openApp(tab, servers)
  await waitForStatus(tab, 'authenticated')
  assert.equal(await tab.evaluate(() => 'locks' in navigator), false)

  const before = await page.evaluate(() => window.auth.getAccessToken())
  const exp = JSON.parse(Buffer.from(before.split('.')[1], 'base64url').toString()).exp
  const wait = exp * 1000 - LEEWAY * 1000 + 1300 - Date.now()
  if (wait > 0) await new Promise((r) => setTimeout(r, wait))
  servers.resetStats()

  const t0 = Date.now() + 1500
  await start(page, `${api.url}/api/me`, t0)
  await start(tab, `${api.url}/api/me`, t0)
  assert.ok(Date.now() < t0, 'the two calls were not both set up before their start time')
  await page.waitForFunction(() => window.__run !== undefined)
  const a = await page.evaluate(() => window.__run)
  const b = await tab.evaluate(() => window.__run)
  assert.ok(Math.abs(a.started - b.started) < 100, `the two calls did not start together (${a.started - b.started} ms)`)

  assert.equal(a.result.ok && a.result.status, 200, JSON.stringify(a.result))
  assert.equal(b.result.ok && b.result.status, 200, JSON.stringify(b.result))
  assert.deepEqual(provider.stats.grants, { refresh_token: 1 })
  assert.deepEqual(provider.stats.errors, {})
  assert.equal(provider.stats.grantsRevoked, 0)
  assert.deepEqual(api.stats.unauthorized, {})

  const ta = await page.evaluate(() => window.auth.getAccessToken())
  const tb = await tab.evaluate(() => window.auth.getAccessToken())
  assert.ok(ta === tb, 'the tabs hold different access tokens')
  assert.ok(ta !== before, 'the access token was not refreshed')
  assert.equal(await page.evaluate(() => window.auth.getSnapshot().status), 'authenticated')
  assert.equal(await tab.evaluate(() => window.auth.getSnapshot().status), 'authenticated')
})
