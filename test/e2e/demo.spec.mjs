// The playground (`npm run demo`) driven in real Chromium: sign-in through the embedded
// provider's form, the API call, a forced refresh with rotation, a second tab that follows the
// first one's logout, and the logout itself, asserting what each panel shows.
//
// The demo's servers run in this process (startDemo from demo/server/start.mjs) on free ports.
import { existsSync, mkdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { expect, test } from '@playwright/test'

import { startDemo } from '../../demo/server/start.mjs'

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const SCREENSHOT = path.join(REPO_ROOT, 'test-results', 'demo-signed-in.png')
const BUNDLE = path.join(REPO_ROOT, 'dist', 'oauth-spa.standalone.min.js')

/**
 * Collects what must not happen in the demo app's pages: uncaught errors, console errors (CSP
 * violations are reported there too). Messages of the provider's own pages (the same tab visits
 * them, e.g. Chromium's automatic /favicon.ico request there) are not the app's.
 */
function watchPage(page, appOrigin) {
  const problems = []
  page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return
    const where = msg.location()?.url ?? ''
    const pageUrl = page.url()
    if (!pageUrl.startsWith(appOrigin) && !where.startsWith(appOrigin)) return
    problems.push(`console.error at ${where || pageUrl}: ${msg.text()}`)
  })
  return problems
}

async function openDemo(page, url) {
  await page.goto(url)
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
}

/** A row of one of the demo's key/value tables: name, value and (in some tables) a note. */
const row = (page, tableId, key) => page.locator(`#${tableId} tr[data-key="${key}"]`)
/** Only the value cell of such a row. */
const cell = (page, tableId, key) => row(page, tableId, key).locator('td').first()

/** Reads the SDK's records straight from IndexedDB (test-side check, not through the page UI). */
function readTokensFromIdb(page) {
  return page.evaluate(() => new Promise((resolve, reject) => {
    const req = indexedDB.open('oauth-spa')
    req.onerror = () => reject(req.error)
    req.onsuccess = () => {
      const db = req.result
      const out = {}
      const tx = db.transaction(['access_tokens', 'id_tokens', 'refresh_tokens'], 'readonly')
      for (const name of ['access_tokens', 'id_tokens', 'refresh_tokens']) {
        const r = tx.objectStore(name).getAll()
        r.onsuccess = () => {
          out[name] = r.result
        }
      }
      tx.oncomplete = () => {
        db.close()
        resolve({
          access: out.access_tokens.map((r) => r.token),
          id: out.id_tokens.map((r) => r.idToken).filter(Boolean),
          refresh: out.refresh_tokens.map((r) => r.token),
        })
      }
      tx.onerror = () => reject(tx.error)
    }
  }))
}

async function signInThroughProvider(page, demo, { username = 'alice', password = 'wonderland' } = {}) {
  await page.waitForURL((u) => u.href.startsWith(`${demo.issuer}/interaction/`))
  await page.fill('input[name=login]', username)
  await page.fill('input[name=password]', password)
  await page.click('#submit')
  await page.waitForURL((u) => u.origin === demo.appOrigin && u.pathname === '/')
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
}

test.describe('demo playground', () => {
  let demo

  test.beforeAll(async () => {
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first`)
    demo = await startDemo({ port: 0, providerPort: 0, apiPort: 0 })
  })

  test.afterAll(async () => {
    await demo?.close()
  })

  test.beforeEach(() => {
    demo.provider.stats.reset()
    demo.api.stats.reset()
  })

  test('sign-in, API call, forced refresh, second tab and logout, step by step', async ({ page, context }) => {
    const { issuer, appOrigin } = demo
    const problems = watchPage(page, appOrigin)
    const audience = demo.api.audience

    await test.step('signed out: discovery, users, empty stores', async () => {
      await openDemo(page, demo.url)
      await expect(page.locator('#status')).toHaveText('unauthenticated')
      await expect(page.locator('#mode [data-mode="embedded"]')).toBeVisible()
      await expect(page.locator('#issuer')).toHaveText(issuer)
      await expect(page.locator('#demo-users')).toContainText('alice / wonderland')
      await expect(page.locator('#demo-users')).toContainText('bob / builder')
      await expect(page.locator('#panel-discovery')).toHaveAttribute('data-state', 'done')
      await expect(page.locator('#discovery-url')).toHaveText(`${issuer}/.well-known/openid-configuration`)
      await expect(row(page, 'discovery', 'issuer')).toContainText(issuer)
      await expect(row(page, 'discovery', 'authorization_endpoint')).toContainText(`${issuer}/auth`)
      await expect(row(page, 'discovery', 'code_challenge_methods_supported')).toContainText('S256')
      await expect(row(page, 'discovery', 'authorization_response_iss_parameter_supported')).toContainText('true')
      await expect(page.locator('#request-empty')).toBeVisible()
      await expect(page.locator('#tokens-empty')).toBeVisible()
      await expect(page.locator('#claims-empty')).toBeVisible()
      await expect(page.locator('#login')).toBeEnabled()
      await expect(page.locator('#force-refresh')).toBeDisabled()
      await expect(page.locator('#logout')).toBeDisabled()
      await expect(page.locator('#countdown')).toHaveText('—')
    })

    let state
    await test.step('authorization request: held before leaving, PKCE verifier → challenge', async () => {
      await expect(page.locator('#pause-before-redirect')).toBeChecked()
      await page.click('#login')
      await expect(page.locator('#continue-login')).toBeVisible()
      expect(new URL(page.url()).origin, 'the page must not have left yet').toBe(appOrigin)
      const authUrl = new URL(await page.locator('#auth-url').innerText())
      expect(authUrl.origin + authUrl.pathname).toBe(`${issuer}/auth`)
      state = authUrl.searchParams.get('state')
      expect(state).toBeTruthy()
      await expect(page.locator('#request-source')).toContainText('Captured')
      await expect(row(page, 'auth-params', 'response_type')).toContainText('code')
      await expect(row(page, 'auth-params', 'client_id')).toContainText('spa-demo')
      await expect(row(page, 'auth-params', 'redirect_uri')).toContainText(`${appOrigin}/callback`)
      await expect(row(page, 'auth-params', 'code_challenge_method')).toContainText('S256')
      await expect(row(page, 'auth-params', 'resource')).toContainText(audience)
      await expect(row(page, 'auth-params', 'state')).toContainText(state)
      await expect(cell(page, 'auth-params', 'nonce')).toHaveText(/^[A-Za-z0-9_-]{22,}$/)
      await expect(cell(page, 'auth-params', 'state')).toHaveText(state)
      await expect(row(page, 'auth-params', 'scope')).toContainText('offline_access')
      await expect(page.locator('#auth-params tr[data-key="dpop_jkt"]')).toHaveCount(0)
      const verifier = await page.locator('#pkce-verifier').innerText()
      expect(verifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/)
      const challenge = await page.locator('#pkce-challenge').innerText()
      expect(challenge).toBe(authUrl.searchParams.get('code_challenge'))
      expect(challenge).not.toBe(verifier)
      await expect(page.locator('#pkce-check')).toHaveAttribute('data-ok', 'true')
      // the verifier is in the transaction, never in the URL
      expect(authUrl.href).not.toContain(verifier)
      await expect(page.locator('#store-transactions')).toHaveAttribute('data-count', '1')
      await expect(page.locator(`#store-transactions li[data-key="${issuer}|spa-demo|txn|${state}"]`)).toHaveCount(1)
      await page.click('#continue-login')
    })

    await test.step('provider sign-in form, then the callback and its validation', async () => {
      await signInThroughProvider(page, demo)
      expect(page.url(), 'the callback parameters are scrubbed from the address bar').toBe(`${appOrigin}/`)
      await expect(page.locator('#status')).toHaveText('authenticated')
      await expect(page.locator('#who')).toHaveText('Alice Liddell (alice)')
      await expect(page.locator('#panel-callback')).toHaveAttribute('data-state', 'done')
      await expect(cell(page, 'callback-params', 'state')).toHaveText(state)
      await expect(row(page, 'callback-params', 'iss')).toContainText(issuer)
      await expect(row(page, 'callback-params', 'iss')).toContainText('equals the configured issuer')
      await expect(row(page, 'callback-params', 'code')).toContainText('hidden')
      await expect(page.locator('#callback-checks li')).toHaveCount(5)
      await expect(page.locator('#callback-checks li[data-ok="false"]')).toHaveCount(0)
      await expect(page.locator('#callback-result')).toHaveAttribute('data-ok', 'true')
      await expect(page.locator('#callback-result')).toContainText('signed in as alice')
      // the request panel now shows the captured URL and the transaction read before it was consumed
      await expect(page.locator('#request-source')).toContainText('Captured by the demo')
      await expect(row(page, 'auth-params', 'state')).toContainText(state)
      await expect(page.locator('#pkce-check')).toHaveAttribute('data-ok', 'true')
      // the transaction is consumed; only the "completed" marker is left
      await expect(page.locator(`#store-transactions li[data-key="${issuer}|spa-demo|txn|${state}"]`)).toHaveCount(0)
      await expect(page.locator(`#store-transactions li[data-key="${issuer}|spa-demo|done|${state}"]`)).toHaveCount(1)
      await expect(page.locator('#event-log li[data-event="login"]')).toHaveCount(1)
      expect(demo.provider.stats.grants.authorization_code).toBe(1)
    })

    let fp1
    await test.step('token response, ID token claims, IndexedDB, countdown', async () => {
      await expect(page.locator('#tokens-body')).toBeVisible()
      await expect(page.locator('#token-type')).toHaveText('Bearer')
      await expect(page.locator('#token-scope')).toContainText('api:read')
      await expect(page.locator('#token-resource')).toHaveText(audience)
      await expect(page.locator('#token-lifetime')).toHaveText('600 s')
      for (const id of ['access-token', 'refresh-token', 'id-token']) {
        await expect(page.locator(`#${id}`)).toHaveAttribute('data-redacted', 'true')
        await expect(page.locator(`#${id}`)).toContainText('hidden')
      }
      fp1 = await page.locator('#rt-fingerprint').innerText()
      expect(fp1).toMatch(/^[0-9a-f]{8}$/)
      await expect(page.locator('#at-fingerprint')).toHaveText(/^[0-9a-f]{8}$/)

      await expect(cell(page, 'id-claims', 'sub')).toHaveText('alice')
      await expect(row(page, 'id-claims', 'iss')).toContainText(issuer)
      await expect(cell(page, 'id-claims', 'aud')).toHaveText('spa-demo')
      await expect(row(page, 'id-claims', 'email')).toContainText('alice@example.test')
      await expect(row(page, 'id-claims', 'nonce')).toContainText('matches the transaction')

      await expect(page.locator('#store-id_tokens')).toHaveAttribute('data-count', '1')
      await expect(page.locator('#store-refresh_tokens')).toHaveAttribute('data-count', '1')
      await expect(page.locator('#store-access_tokens')).toHaveAttribute('data-count', '1')
      await expect(page.locator('#store-dpop_keys')).toHaveAttribute('data-count', '0')
      await expect(page.locator('#other-storage')).toHaveAttribute('data-local', '0')
      await expect(page.locator('#other-storage')).toHaveAttribute('data-sdk-session', '0')

      const remaining = Number(await page.locator('#countdown').getAttribute('data-remaining'))
      expect(remaining).toBeGreaterThan(500)
      expect(remaining).toBeLessThanOrEqual(600)
      await expect(page.locator('#countdown')).toHaveText(/^\d+:\d\d$/)

      // no token value is in the page while redacted
      const tokens = await readTokensFromIdb(page)
      expect(tokens.access).toHaveLength(1)
      expect(tokens.refresh).toHaveLength(1)
      expect(tokens.id).toHaveLength(1)
      const text = await page.locator('body').innerText()
      for (const token of [...tokens.access, ...tokens.refresh, ...tokens.id]) {
        expect(text.includes(token), 'a token is visible although redacted').toBe(false)
        expect(text.includes(token.slice(10, 40))).toBe(false)
      }

      mkdirSync(path.dirname(SCREENSHOT), { recursive: true })
      await page.setViewportSize({ width: 1360, height: 900 })
      await page.screenshot({ path: SCREENSHOT, fullPage: true })

      // the reveal toggle shows them in full
      await page.check('#reveal-tokens')
      await expect(page.locator('#refresh-token')).toHaveText(tokens.refresh[0])
      await expect(page.locator('#access-token')).toHaveText(tokens.access[0])
      await expect(page.locator('#access-token')).toHaveAttribute('data-redacted', 'false')
      await page.uncheck('#reveal-tokens')
      await expect(page.locator('#refresh-token')).toContainText('hidden')
    })

    await test.step('API call with auth.fetch', async () => {
      await page.click('#call-api')
      await expect(page.locator('#api-status')).toHaveAttribute('data-status', '200')
      await expect(page.locator('#api-status')).toHaveText('200 OK')
      await expect(page.locator('#api-scheme')).toContainText('Bearer')
      const body = JSON.parse(await page.locator('#api-response').innerText())
      expect(body).toMatchObject({ sub: 'alice', iss: issuer, aud: audience, client_id: 'spa-demo' })
      expect(demo.api.stats.schemes).toEqual(['Bearer'])
      await expect(page.locator('#panel-api')).toHaveAttribute('data-state', 'done')
    })

    let fp2
    await test.step('forced refresh rotates the refresh token', async () => {
      await expect(page.locator('#rt-history li')).toHaveCount(1)
      await page.click('#force-refresh')
      await expect(page.locator('#refresh-result')).toHaveAttribute('data-rotated', 'true')
      fp2 = await page.locator('#rt-fingerprint').innerText()
      expect(fp2).toMatch(/^[0-9a-f]{8}$/)
      expect(fp2).not.toBe(fp1)
      await expect(page.locator('#refresh-result')).toContainText(`${fp1} → ${fp2}`)
      await expect(page.locator('#rt-history li')).toHaveCount(2)
      await expect(page.locator('#rt-history li').nth(0)).toHaveAttribute('data-fp', fp1)
      await expect(page.locator('#rt-history li').nth(1)).toHaveAttribute('data-fp', fp2)
      await expect(page.locator('#event-log li[data-event="token_refreshed"]')).toHaveCount(1)
      expect(demo.provider.stats.grants.refresh_token).toBe(1)
      expect(demo.provider.stats.refreshTokensConsumed).toBe(1)
      // the old refresh token is dead: the provider says so
      await expect(page.locator('#store-refresh_tokens')).toHaveAttribute('data-count', '1')
    })

    let tab2
    let tab2Problems
    await test.step('a second tab shares the session', async () => {
      const opened = context.waitForEvent('page')
      await page.click('#open-tab')
      tab2 = await opened
      tab2Problems = watchPage(tab2, appOrigin)
      await expect(tab2.locator('body')).toHaveAttribute('data-ready', 'true')
      expect(new URL(tab2.url()).origin).toBe(appOrigin)
      await expect(tab2.locator('#status')).toHaveText('authenticated')
      await expect(tab2.locator('#tab-role')).toHaveText('opened from another tab')
      await expect(tab2.locator('#tab-snapshot')).toHaveText('authenticated, sub alice')
      await expect(tab2.locator('#rt-fingerprint')).toHaveText(fp2)
      await expect(tab2.locator('#token-type')).toHaveText('Bearer')
      // no extra grant: the second tab read the stored session
      expect(demo.provider.stats.grants.refresh_token).toBe(1)
      expect(demo.provider.stats.grants.authorization_code).toBe(1)
    })

    await test.step('logout in the first tab: revocation, end session, the second tab flips', async () => {
      await page.bringToFront()
      await page.click('#logout')
      // the second tab hears about it over the BroadcastChannel, while the first is at the provider
      await expect(tab2.locator('#status')).toHaveText('unauthenticated')
      await expect(tab2.locator('#tab-snapshot')).toHaveText('unauthenticated')
      await expect(tab2.locator('#event-log li[data-event="logout"]')).toHaveCount(1)
      await expect(tab2.locator('#tokens-empty')).toBeVisible()
      await expect(tab2.locator('#claims-empty')).toBeVisible()
      await expect(tab2.locator('#countdown')).toHaveText('—')
      await expect(tab2.locator('#store-id_tokens')).toHaveAttribute('data-count', '0')
      expect(Number(await tab2.locator('#tab-changes').innerText())).toBeGreaterThanOrEqual(1)

      await page.waitForURL((u) => u.href.startsWith(`${issuer}/session/end`))
      await page.click('#logout-yes')
      await page.waitForURL((u) => u.origin === appOrigin && u.pathname === '/')
      await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
      await expect(page.locator('#status')).toHaveText('unauthenticated')
      await expect(page.locator('#logout-result')).toHaveAttribute('data-done', 'provider')
      await expect(page.locator('#panel-logout')).toHaveAttribute('data-state', 'done')
      for (const store of ['access_tokens', 'id_tokens', 'refresh_tokens', 'dpop_keys']) {
        await expect(page.locator(`#store-${store}`)).toHaveAttribute('data-count', '0')
      }
      await expect(page.locator('#tokens-empty')).toBeVisible()
      expect(demo.provider.stats.revocations).toBe(1)
      expect(demo.provider.stats.endSessions).toBe(1)
      // the revoked refresh token is gone at the provider too: the API call now needs a sign-in
      await page.click('#call-api')
      await expect(page.locator('#api-status')).toHaveText('login_required')
    })

    expect(problems).toEqual([])
    expect(tab2Problems).toEqual([])
    await tab2.close()
  })

  test('DPoP toggle: sign in again with sender-constrained tokens, dpop_jkt and cnf.jkt match', async ({ page }) => {
    const { issuer, appOrigin } = demo
    const problems = watchPage(page, appOrigin)
    await openDemo(page, demo.url)
    await expect(page.locator('#dpop-toggle')).not.toBeChecked()
    await page.check('#dpop-toggle')
    await page.waitForURL((u) => u.searchParams.get('dpop') === '1')
    await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
    await expect(page.locator('#dpop-toggle')).toBeChecked()
    await expect(page.locator('#dpop-state')).toHaveAttribute('data-on', 'true')
    await expect(page.locator('#mode .dpop')).toHaveText('DPoP')

    // straight through this time: no pause before the provider
    await page.uncheck('#pause-before-redirect')
    await page.click('#login')
    await page.waitForURL((u) => u.href.startsWith(`${issuer}/interaction/`))
    await page.fill('input[name=login]', 'bob')
    await page.fill('input[name=password]', 'builder')
    await page.click('#submit')
    await page.waitForURL((u) => u.origin === appOrigin && u.pathname === '/' && u.searchParams.get('dpop') === '1')
    await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
    await expect(page.locator('#status')).toHaveText('authenticated')
    await expect(page.locator('#who')).toHaveText('Bob Builder (bob)')

    // the outgoing URL was still recorded (not held), with dpop_jkt = the stored key's thumbprint
    await expect(page.locator('#request-source')).toContainText('Captured by the demo')
    const jkt = await page.locator('#dpop-jkt').innerText()
    expect(jkt).toMatch(/^[A-Za-z0-9_-]{43}$/)
    await expect(cell(page, 'auth-params', 'dpop_jkt')).toHaveText(jkt)
    await expect(page.locator('#token-type')).toHaveText('DPoP')
    await expect(page.locator('#dpop-cnf')).toHaveText(jkt)
    await expect(page.locator('#dpop-match')).toHaveAttribute('data-ok', 'true')
    await expect(page.locator('#store-dpop_keys')).toHaveAttribute('data-count', '1')
    await expect(page.locator('#store-dpop_keys')).toContainText('extractable: false')

    await page.click('#call-api')
    await expect(page.locator('#api-status')).toHaveAttribute('data-status', '200')
    await expect(page.locator('#api-scheme')).toContainText('DPoP')
    const body = JSON.parse(await page.locator('#api-response').innerText())
    expect(body).toMatchObject({ sub: 'bob', cnf: { jkt } })
    expect(demo.api.stats.schemes).toContain('DPoP')
    expect(demo.api.stats.schemes).not.toContain('Bearer')

    await page.click('#force-refresh')
    await expect(page.locator('#refresh-result')).toHaveAttribute('data-rotated', 'true')
    await expect(page.locator('#dpop-match')).toHaveAttribute('data-ok', 'true')

    // switching DPoP off ends the session here first
    await page.uncheck('#dpop-toggle')
    await page.waitForURL((u) => u.searchParams.get('dpop') === '0')
    await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
    await expect(page.locator('#status')).toHaveText('unauthenticated')
    await expect(page.locator('#store-dpop_keys')).toHaveAttribute('data-count', '0')
    expect(problems).toEqual([])
  })

  test('cancel at the provider: the error response is shown, as text, and nothing is stored', async ({ page }) => {
    const { issuer, appOrigin } = demo
    const problems = watchPage(page, appOrigin)
    await openDemo(page, demo.url)
    await page.uncheck('#pause-before-redirect')
    await page.click('#login')
    await page.waitForURL((u) => u.href.startsWith(`${issuer}/interaction/`))
    await page.click('#deny')
    await page.waitForURL((u) => u.origin === appOrigin && u.pathname === '/')
    await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
    await expect(page.locator('#panel-callback')).toHaveAttribute('data-state', 'error')
    await expect(cell(page, 'callback-params', 'error')).toHaveText('access_denied')
    await expect(cell(page, 'callback-params', 'error_description')).toHaveText('End-User aborted interaction')
    await expect(page.locator('#callback-params tr[data-key="code"]')).toHaveCount(0)
    await expect(page.locator('#callback-result')).toHaveAttribute('data-code', 'authorization_error')
    await expect(page.locator('#callback-result')).toContainText('access_denied')
    await expect(page.locator('#status')).toHaveText('unauthenticated')
    await expect(page.locator('#store-id_tokens')).toHaveAttribute('data-count', '0')
    await expect(page.locator('#store-refresh_tokens')).toHaveAttribute('data-count', '0')
    expect(demo.provider.stats.logins.aborted).toBe(1)
    expect(demo.provider.stats.grants.authorization_code ?? 0).toBe(0)
    expect(problems).toEqual([])
  })

  test('callback values are shown as text, and a forged callback is refused', async ({ page }) => {
    const problems = watchPage(page, demo.appOrigin)
    await openDemo(page, demo.url)
    const evil = '<img src=x id=injected onerror="document.title=1">'
    await page.goto(`${demo.appOrigin}/callback?code=${encodeURIComponent(evil)}&state=${encodeURIComponent(`<b id="bold">${evil}</b>`)}&iss=${encodeURIComponent(demo.issuer)}`)
    await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
    await expect(page.locator('#panel-callback')).toHaveAttribute('data-state', 'error')
    await expect(page.locator('#callback-result')).toHaveAttribute('data-code', 'invalid_state')
    await expect(row(page, 'callback-params', 'state')).toContainText('<b id="bold">')
    await expect(row(page, 'callback-params', 'state')).toContainText('no pending transaction has this state')
    await expect(page.locator('#injected')).toHaveCount(0)
    await expect(page.locator('#bold')).toHaveCount(0)
    await expect(page.locator('#status')).toHaveText('unauthenticated')
    expect(page.url()).toBe(`${demo.appOrigin}/`)
    expect(demo.provider.stats.grants.authorization_code ?? 0).toBe(0)
    expect(problems).toEqual([])
  })
})
