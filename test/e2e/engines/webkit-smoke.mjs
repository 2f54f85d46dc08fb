// Smoke test of the WebKit driver (webkit.mjs) against the real e2e stack: sign-in through the
// provider's form, auth.fetch GET and POST with the token, a second tab in the same session.
//
//   npm run build && node --test test/e2e/engines/webkit-smoke.mjs
//
// Needs webkit2gtk-driver and xvfb (Debian); WEBKIT_DRIVER_PATH overrides the driver's path.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { startE2EServers } from '../support/servers.mjs'
import { launch } from './webkit.mjs'
import { openApp, signIn, waitForStatus } from './webkit-helpers.mjs'

let servers
let browser

before(async () => {
  servers = await startE2EServers()
  browser = await launch()
})

after(async () => {
  await browser?.close()
  await servers?.close()
})

test('webkit: sign-in through the form, auth.fetch GET and POST, a second tab shares the session', async () => {
  const { provider, api, echo } = servers
  const page = await browser.newPage()
  await openApp(page, servers)
  assert.equal(await page.evaluate(() => window.auth.getSnapshot().status), 'unauthenticated')

  const result = await signIn(page, servers)
  assert.equal(result.ok, true, `sign-in failed: ${JSON.stringify(result)}`)
  await waitForStatus(page, 'authenticated')
  assert.deepEqual(provider.stats.grants, { authorization_code: 1 })

  const get = await page.evaluate((url) => window.e2e.call(url), `${api.url}/api/me`)
  assert.equal(get.ok, true, JSON.stringify(get))
  assert.equal(get.status, 200)
  assert.equal(get.body.sub, 'alice')

  const post = await page.evaluate((url) => window.e2e.call(url, {
    method: 'POST', body: JSON.stringify({ hello: 'webkit' }), headers: { 'content-type': 'application/json' },
  }), `${api.url}/api/echo`)
  assert.equal(post.ok, true, JSON.stringify(post))
  assert.equal(post.status, 200)
  assert.equal(post.body.method, 'POST')
  assert.equal(post.body.body, JSON.stringify({ hello: 'webkit' }))
  assert.deepEqual(api.stats.schemes, ['Bearer', 'Bearer'])

  // a foreign origin sees no token
  const foreign = await page.evaluate((url) => window.e2e.call(url), `${echo.url}/smoke`)
  assert.equal(foreign.ok, true, JSON.stringify(foreign))
  assert.deepEqual(echo.leaks(), [])

  // a second tab of the same session reads the stored session (IndexedDB shared by the tabs)
  const tab = await browser.newPage()
  await openApp(tab, servers)
  await waitForStatus(tab, 'authenticated')
  const again = await tab.evaluate((url) => window.e2e.call(url), `${api.url}/api/me`)
  assert.equal(again.status, 200)
  assert.deepEqual(provider.stats.grants, { authorization_code: 1 }, 'the second tab made a token request')
  await tab.close()
  assert.equal(await page.evaluate(() => window.auth.getSnapshot().status), 'authenticated')
})
