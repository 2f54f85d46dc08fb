// WebKit with website data on disk: sign in, quit the browser, launch it again on the same profile
// folder, and the app is signed in without a token request. MiniBrowser keeps data in memory only
// under WebDriver, so launch({ profileDir }) runs webkit-browser.py (WebKitGTK through its GObject
// API, same engine) as the driver's browser; the grants are counted at the real provider.
//
//   npm run build && node --test test/e2e/engines/webkit-persistent.mjs
import assert from 'node:assert/strict'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { after, before, test } from 'node:test'

import { startE2EServers } from '../support/servers.mjs'
import { launch } from './webkit.mjs'
import { openApp, signIn, waitForStatus } from './webkit-helpers.mjs'

let servers
let profileDir
let browser

before(async () => {
  servers = await startE2EServers()
  profileDir = await mkdtemp(path.join(os.tmpdir(), 'oauth-spa-webkit-profile-'))
})

after(async () => {
  await browser?.close()
  await servers?.close()
  if (profileDir) await rm(profileDir, { recursive: true, force: true })
})

/**
 * Every path below `dir`, relative to it. A folder that disappears while it is walked is skipped:
 * WebKit's storage process may still be removing its own temporary folders just after the browser
 * quit (seen once in CI: readdir's recursive walk failed with ENOENT on such a folder).
 */
async function listFiles(dir, prefix = '') {
  let entries
  try {
    entries = await readdir(path.join(dir, prefix), { withFileTypes: true })
  } catch (e) {
    if (e.code === 'ENOENT' && prefix !== '') return []
    throw e
  }
  const out = []
  for (const entry of entries) {
    const rel = path.join(prefix, entry.name)
    out.push(rel)
    if (entry.isDirectory()) out.push(...(await listFiles(dir, rel)))
  }
  return out
}

test('webkit, data on disk: signed in, the browser quits and starts again: still signed in, no token request', async () => {
  const { provider, api } = servers

  browser = await launch({ profileDir })
  let page = await browser.newPage()
  await openApp(page, servers)
  assert.equal(await page.evaluate(() => window.auth.getSnapshot().status), 'unauthenticated')
  const result = await signIn(page, servers)
  assert.equal(result.ok, true, JSON.stringify(result))
  await waitForStatus(page, 'authenticated')
  assert.deepEqual(provider.stats.grants, { authorization_code: 1 })
  await browser.close()
  browser = undefined
  // WebKit wrote its IndexedDB files into the profile folder, not into memory.
  const written = await listFiles(profileDir)
  assert.ok(written.some((f) => /indexeddb/i.test(f)), `no IndexedDB files in the profile: ${written.join(', ')}`)

  provider.stats.reset()
  api.stats.reset()
  browser = await launch({ profileDir })
  page = await browser.newPage()
  await openApp(page, servers)
  assert.equal(await page.evaluate(() => window.auth.getSnapshot().status), 'authenticated')
  assert.equal(await page.evaluate(() => window.auth.getSnapshot().user?.sub), 'alice')
  const me = await page.evaluate((url) => window.e2e.call(url), `${api.url}/api/me`)
  assert.equal(me.ok && me.status, 200, JSON.stringify(me))
  assert.deepEqual(provider.stats.grants, {}, 'the restarted browser made a token request')
  assert.equal(api.stats.requests, 1)

  // control: without the profile, a new browser knows nothing of the session
  await browser.close()
  browser = await launch()
  page = await browser.newPage()
  await openApp(page, servers)
  assert.equal(await page.evaluate(() => window.auth.getSnapshot().status), 'unauthenticated')
})
