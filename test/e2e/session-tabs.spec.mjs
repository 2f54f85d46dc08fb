// Issue 15, in real Chromium tabs against the real provider and API: what another tab's logout
// leaves behind (defect 2: with storage 'memory', nothing usable), and a logout whose IndexedDB
// deletes fail (defect 4: storage_error, and neither the other tab nor a reload uses the leftovers).
import { test, expect } from './fixtures.mjs'
import {
  call,
  events,
  openApp,
  openSignedInTab,
  signIn,
  signedIn,
  token,
  tokenValues,
  waitForStatus,
} from './support/browser-helpers.mjs'

test('issue 15 defect 2: storage "memory" — a logout in tab A leaves tab B with no usable token: no API call with a token, no refresh grant', async ({ page, context, servers }) => {
  const { provider, api } = servers
  await signedIn(page, servers, { path: '/?storage=memory' })
  const tabB = await context.newPage()
  await openApp(tabB, servers, '/?storage=memory')
  // Memory storage: tab B cannot read tab A's session; it signs in itself.
  await waitForStatus(tabB, 'unauthenticated')
  const b = await signIn(tabB, servers, { prompt: 'login' })
  expect(b.result).toMatchObject({ ok: true })
  await waitForStatus(tabB, 'authenticated')
  expect(await call(tabB, `${api.url}/api/me`)).toMatchObject({ ok: true, status: 200 })

  await page.evaluate(() => window.auth.logout({ localOnly: true }))
  await waitForStatus(tabB, 'unauthenticated')
  servers.resetStats()
  api.stats.reset()
  expect(await token(tabB)).toMatchObject({ ok: false, error: { code: 'login_required' } })
  expect(await token(tabB, { forceRefresh: true })).toMatchObject({ ok: false, error: { code: 'login_required' } })
  expect(await call(tabB, `${api.url}/api/me`)).toMatchObject({ ok: false, error: { code: 'login_required' } })
  expect(api.stats.schemes).toEqual([])
  expect(provider.stats.grants.refresh_token ?? 0).toBe(0)
})

test('issue 15 defect 4: a logout whose IndexedDB deletes fail reports storage_error; tab B and a reload stay signed out, though the records are still there', async ({ page, context, servers }) => {
  const { provider } = servers
  await signedIn(page, servers)
  const tabB = await openSignedInTab(context, servers)
  // Reads keep working; every delete throws, as on a full disk.
  await page.evaluate(() => {
    IDBObjectStore.prototype.delete = function () {
      throw new DOMException('disk full', 'QuotaExceededError')
    }
  })
  await page.evaluate(() => window.auth.logout({ localOnly: true }))
  await waitForStatus(page, 'unauthenticated')
  expect((await events(page, 'error')).map((e) => e.payload?.error?.code ?? e.payload?.code)).toContain('storage_error')
  const left = await tokenValues(tabB, servers)
  expect(left.refreshToken, 'the failed wipe left the refresh token in IndexedDB').toBeTruthy()

  await waitForStatus(tabB, 'unauthenticated')
  servers.resetStats()
  expect(await token(tabB)).toMatchObject({ ok: false, error: { code: 'login_required' } })
  await tabB.reload()
  await waitForStatus(tabB, 'unauthenticated')
  expect(await token(tabB)).toMatchObject({ ok: false, error: { code: 'login_required' } })
  expect(provider.stats.grants.refresh_token ?? 0).toBe(0)
})
