// Popup sign-in, silent renewal and step-up (issue 16), written once against the driver contract
// (README.md) and run in every engine by run.mjs; the Chromium-only Playwright specs
// (popup.spec.mjs, silent.spec.mjs, step-up.spec.mjs) cover what needs request interception.
//
// Every engine runs with its popup blocker on, as a user's browser does: a popup opens only from a
// real click (the driver's click is a trusted input event) on a button of the app page. The
// provider's pages send `Cross-Origin-Opener-Policy: same-origin` where a popup is involved, and
// each popup test checks that the engine really severed the popup from its opener on them.
import assert from 'node:assert/strict'
import { after, before, test } from 'node:test'

import { call, events, snapshot, token, waitForApp } from '../support/browser-helpers.mjs'
import {
  addCallButton,
  atForm,
  authorizationRequests,
  clickCall,
  clickPopup,
  endProviderSession,
  iframes,
  loginInPopup,
  pendingSignIns,
  popupOutcome,
  refuseNextRefresh,
} from './flow-helpers.mjs'
import { appWithHeadScript, assertMatch, loadEngine, openApp, signedIn, sleep, stackRunner, waitForStatus } from './suite-helpers.mjs'

const ENGINE = process.env.E2E_ENGINE ?? 'chromium'
const driver = await loadEngine(ENGINE)
const TIMEOUT = 90_000
const PWD = 'urn:oauth-spa:pwd'
const MFA = 'urn:oauth-spa:mfa'
const NOTHING_PENDING = { transactions: 0, marks: [] }
const COOP = { provider: { coop: true } }
const SILENT = { csp: { frameAncestors: "'self'" }, appConfig: { silentRenew: 'iframe' } }
const STEP_UP = { provider: { acrValues: [PWD, MFA], coop: true }, appConfig: { stepUp: 'popup' } }

// WebKit (WebKitGTK 2.50 here) keeps a click's user activation through microtasks and timers but
// not through a fetch or an IndexedDB callback, so a popup that `auth.fetch` opens after the API's
// answer is refused by its popup blocker even when the call started in a click (Chromium and
// Firefox keep the activation for 5 s: the popup opens). See docs/browser-support.md.
const ACTIVATION_SURVIVES_FETCH = ENGINE !== 'webkit'

let browser
/** Only where a click's activation does not survive the API call: a browser with its popup blocker off. */
let popupsAllowed
before(async () => {
  browser = await driver.launch()
})
after(async () => {
  await browser?.close()
  await popupsAllowed?.close()
})
const withStack = stackRunner(() => browser)
/** The browser for stepUp: 'popup': the shared one, or (WebKit) one that lets auth.fetch open the popup. */
async function stepUpBrowser() {
  if (ACTIVATION_SURVIVES_FETCH) return browser
  popupsAllowed ??= await driver.launch({ popupBlocker: false })
  return popupsAllowed
}
const withStepUpStack = async (options, body) => {
  const b = await stepUpBrowser()
  return stackRunner(() => b)(options, (servers, newPage) => body(servers, newPage, b))
}
const name = (s) => `${ENGINE}: ${s}`

/** Polls `probe` (async) until truthy, for at most `timeout` ms. */
async function eventually(probe, message, timeout = 10_000) {
  const deadline = Date.now() + timeout
  while (!(await probe())) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeout} ms: ${message}`)
    await sleep(100)
  }
}

// ---------------------------------------------------------------------------------------------
// Popup sign-in

test(name('popup: signs in through the ordinary callback page; the provider sends COOP and the engine severs the popup; the page stays; the popup closes itself'), { timeout: TIMEOUT }, () =>
  withStack(COOP, async (servers, newPage) => {
    const coop = (await fetch(`${servers.provider.issuer}/.well-known/openid-configuration`)).headers.get('cross-origin-opener-policy')
    assert.equal(coop, 'same-origin', 'the provider does not send COOP')
    const page = await newPage()
    await openApp(page, servers)
    await waitForStatus(page, 'unauthenticated')
    await page.evaluate(() => (window.__stayed = true))
    const popup = await clickPopup(browser, page, undefined, atForm(servers))
    const { severed } = await loginInPopup(popup, servers)
    assert.equal(severed, true, "on the provider's COOP page the popup still has its opener")
    assertMatch(await popupOutcome(page), { ok: true, returnTo: '/', user: { sub: 'alice' } })
    assert.equal(await page.evaluate(() => window.__stayed), true, 'the page left')
    await waitForStatus(page, 'authenticated')
    assertMatch(await call(page, `${servers.api.url}/api/me`), { ok: true, status: 200, body: { sub: 'alice' } })
    await eventually(() => popup.isClosed(), 'the popup did not close itself')
    assert.deepEqual(await pendingSignIns(page), NOTHING_PENDING)
    assert.deepEqual(servers.provider.stats.grants, { authorization_code: 1 })
  }))

// The call must come without a user activation, and the Chromium and Firefox drivers' evaluate
// gives one (CDP userGesture, BiDi userActivation): the page under test is never evaluated in
// before the attempt.
// A head script calls loginWithPopup from a `storage` event that another tab causes.
const STORAGE_TRIGGER = `addEventListener('storage', (e) => {
  if (e.key !== 'e2e-go') return
  window.__blocked = window.e2e.popup()
  localStorage.setItem('e2e-tried', String(Date.now()))
})
const armed = setInterval(() => {
  if (window.__ready !== true) return
  clearInterval(armed)
  localStorage.setItem('e2e-armed', String(Date.now()))
}, 20)
`

test(name('popup: popup_blocked without a user gesture (the engine\'s own popup blocker); nothing stored or pending; the same call in a click opens'), { timeout: TIMEOUT }, async () => {
  const app = await appWithHeadScript('storage-trigger', STORAGE_TRIGGER)
  try {
    await withStack({ ...COOP, appRoot: app.root }, async (servers, newPage) => {
      const page = await newPage()
      await page.goto(`${servers.app.origin}/`)
      const trigger = await newPage()
      await trigger.goto(`${servers.app.origin}/probe.html`)
      await trigger.waitForFunction(() => localStorage.getItem('e2e-armed') !== null)
      await trigger.evaluate(() => localStorage.setItem('e2e-go', String(Date.now())))
      await trigger.waitForFunction(() => localStorage.getItem('e2e-tried') !== null)
      await page.waitForFunction(() => window.__blocked !== undefined)
      const outcome = await page.evaluate(() => window.__blocked)
      assertMatch(outcome, { ok: false, error: { code: 'popup_blocked', isOAuthError: true } }, `without a gesture: ${JSON.stringify(outcome)}`)
      assert.deepEqual(await pendingSignIns(page), NOTHING_PENDING)
      assert.equal(servers.provider.stats.requests.discovery, undefined, 'a blocked popup reached the provider')
      assert.deepEqual(authorizationRequests(servers), [])
      // The same call in a click opens the window and signs in.
      const popup = await clickPopup(browser, page, undefined, atForm(servers))
      await loginInPopup(popup, servers)
      assertMatch(await popupOutcome(page), { ok: true, user: { sub: 'alice' } })
    })
  } finally {
    await app.cleanup()
  }
})

test(name('popup: closed by the user before it reached the provider: popup_closed, its transaction dropped'), { timeout: TIMEOUT }, () =>
  withStack(COOP, async (servers, newPage) => {
    const page = await newPage()
    await openApp(page, servers)
    await waitForStatus(page, 'unauthenticated')
    // Discovery answers slowly: the window is open, the request not built yet.
    servers.provider.faults.set({ mode: 'delay', path: '/.well-known/openid-configuration', method: 'GET', delayMs: 2500, count: 1 })
    const popup = await clickPopup(browser, page, undefined, (u) => u === 'about:blank')
    await popup.close()
    assertMatch(await popupOutcome(page), { ok: false, error: { code: 'popup_closed' } })
    assert.deepEqual(await pendingSignIns(page), NOTHING_PENDING)
    assert.equal((await snapshot(page)).status, 'unauthenticated')
    assert.deepEqual(authorizationRequests(servers), [])
  }))

test(name("popup: closed by the user on the provider's (COOP) page: timeout after timeoutSeconds, nothing pending"), { timeout: TIMEOUT }, () =>
  withStack(COOP, async (servers, newPage) => {
    const page = await newPage()
    await openApp(page, servers)
    const popup = await clickPopup(browser, page, { timeoutSeconds: 4 }, atForm(servers))
    await popup.close()
    const closedAt = Date.now()
    assertMatch(await popupOutcome(page), { ok: false, error: { code: 'timeout' } })
    assert.ok(Date.now() - closedAt < 8000, 'the timeout came late')
    assert.deepEqual(await pendingSignIns(page), NOTHING_PENDING)
    assert.equal((await snapshot(page)).status, 'unauthenticated')
    assert.equal(servers.provider.stats.grants.authorization_code, undefined)
  }))

// Why the contract has `timeout` there: a window on a COOP page is reported closed while it is open.
test(name("popup: the opener sees a popup on the provider's COOP page as closed while it is open (why popup.closed is not believed once the window left)"), { timeout: TIMEOUT }, () =>
  withStack(COOP, async (servers, newPage) => {
    const page = await newPage()
    await openApp(page, servers)
    await page.evaluate((u) => {
      const button = document.createElement('button')
      button.id = 'e2e-open'
      button.textContent = 'open'
      button.addEventListener('click', () => (window.__opened = window.open(u, 'e2e-coop', 'popup=yes,width=400,height=400')))
      document.body.append(button)
    }, `${servers.provider.issuer}/.well-known/openid-configuration`)
    await page.click('#e2e-open')
    const popup = await browser.waitForPage((u) => u.startsWith(`${servers.provider.issuer}/.well-known/`))
    assert.equal(await popup.evaluate(() => window.opener === null), true)
    assert.equal(await popup.isClosed(), false)
    assert.equal(await page.evaluate(() => window.__opened.closed), true, 'this engine reports the severed popup as open')
    await popup.close()
  }))

test(name('popup: the user cancels at the provider: authorization_error access_denied; the popup closes itself'), { timeout: TIMEOUT }, () =>
  withStack(COOP, async (servers, newPage) => {
    const page = await newPage()
    await openApp(page, servers)
    const popup = await clickPopup(browser, page, undefined, atForm(servers))
    await popup.click('#deny')
    assertMatch(await popupOutcome(page), { ok: false, error: { code: 'authorization_error', error: 'access_denied' } })
    await eventually(() => popup.isClosed(), 'the popup did not close itself')
    assert.equal((await snapshot(page)).status, 'unauthenticated')
    assert.deepEqual(await pendingSignIns(page), NOTHING_PENDING)
  }))

// ---------------------------------------------------------------------------------------------
// Silent renewal (the provider on another port of 127.0.0.1: same site, its cookie reaches the iframe)

test(name('silent: a refused refresh token: prompt=none in a hidden iframe, same user; both waiting callers and the other tab get the new token'), { timeout: TIMEOUT }, () =>
  withStack(SILENT, async (servers, newPage) => {
    const page = await newPage()
    await signedIn(page, servers)
    const before = (await token(page)).token
    const other = await newPage()
    await openApp(other, servers)
    await waitForStatus(other, 'authenticated')
    servers.resetStats()
    refuseNextRefresh(servers)
    const [a, b] = await page.evaluate(() => Promise.all([window.e2e.token({ forceRefresh: true }), window.e2e.token({ forceRefresh: true })]))
    assertMatch(a, { ok: true }, `first caller: ${JSON.stringify(a)}`)
    assert.equal(b.token, a.token, 'the two waiting callers got different tokens')
    assert.notEqual(a.token, before)
    const silent = authorizationRequests(servers)
    assert.deepEqual(silent.map((r) => r.prompt), ['none'])
    assert.deepEqual(servers.provider.stats.grants, { authorization_code: 1 })
    assert.equal((await snapshot(page)).status, 'authenticated')
    assert.equal(await iframes(page), 0)
    assertMatch(await call(page, `${servers.api.url}/api/me`), { ok: true, status: 200, body: { sub: 'alice' } })
    assert.deepEqual(await events(page, 'session_expired'), [])
    // The other tab adopts the renewed tokens: no grant of its own.
    servers.resetStats()
    assert.deepEqual(await token(other), a)
    assertMatch(await call(other, `${servers.api.url}/api/me`), { ok: true, status: 200 })
    assert.deepEqual(servers.provider.stats.grants, {})
  }))

test(name('silent: the provider session is gone: login_required from the iframe ends the session with that reason'), { timeout: TIMEOUT }, () =>
  withStack(SILENT, async (servers, newPage) => {
    const page = await newPage()
    await signedIn(page, servers)
    await endProviderSession(await newPage(), servers)
    servers.resetStats()
    refuseNextRefresh(servers)
    assertMatch(await token(page, { forceRefresh: true }), { ok: false, error: { code: 'login_required' } })
    await waitForStatus(page, 'unauthenticated')
    const [expired] = await events(page, 'session_expired')
    assertMatch(expired?.payload.error, { code: 'authorization_error', error: 'login_required' }, `session_expired: ${JSON.stringify(expired)}`)
    assert.deepEqual(authorizationRequests(servers).map((r) => r.prompt), ['none'])
    assert.equal(await iframes(page), 0)
  }))

test(name('silent: a provider that refuses framing (X-Frame-Options, CSP frame-ancestors): the session ends with that cause'), { timeout: TIMEOUT }, () =>
  withStack({ ...SILENT, provider: { refuseFraming: true } }, async (servers, newPage) => {
    const page = await newPage()
    await signedIn(page, servers)
    servers.resetStats()
    refuseNextRefresh(servers)
    assertMatch(await token(page, { forceRefresh: true }), { ok: false, error: { code: 'login_required' } })
    const [expired] = await events(page, 'session_expired')
    assert.ok(expired?.payload.error.message.includes('refuses framing'), `session_expired: ${JSON.stringify(expired)}`)
    // the provider saw the request come for a frame (Sec-Fetch-Dest) and refused it
    assert.deepEqual(authorizationRequests(servers).map((r) => [r.prompt, r.dest]), [['none', 'iframe']])
    assert.ok(servers.provider.stats.events.some((e) => e.type === 'framing.refused'))
    assert.equal(servers.provider.stats.grants.authorization_code, undefined)
    assert.equal(await iframes(page), 0)
  }))

test(name('silent: restoreOnLoad: a page with no stored session signs in silently before it reports a status; not after a logout'), { timeout: TIMEOUT }, () =>
  withStack({ ...SILENT, appConfig: { silentRenew: 'iframe', restoreOnLoad: true, storage: 'memory' } }, async (servers, newPage) => {
    const page = await newPage()
    await signedIn(page, servers)
    await page.reload()
    await waitForApp(page)
    await waitForStatus(page, 'authenticated')
    const statuses = await page.evaluate(() => window.__snapshots.map((s) => s.status))
    assert.ok(!statuses.includes('unauthenticated'), `statuses: ${statuses.join(' → ')}`)
    assert.equal((await snapshot(page)).user.sub, 'alice')
    assertMatch(await call(page, `${servers.api.url}/api/me`), { ok: true, status: 200 })
    await page.evaluate(() => window.auth.logout({ localOnly: true }))
    servers.resetStats()
    await page.reload()
    await waitForApp(page)
    await waitForStatus(page, 'unauthenticated')
    assert.deepEqual(authorizationRequests(servers), [])
  }))

// ---------------------------------------------------------------------------------------------
// Step-up: the API call starts from a click, whose user activation the popup needs

// Chromium and Firefox run every stepUp 'popup' test below with the blocker on, from a click.
if (!ACTIVATION_SURVIVES_FETCH) test(name("step-up: stepUp 'popup' from a click with the popup blocker on: the popup is blocked (the activation did not survive the API call), the challenged response comes back as it came, popup_blocked is reported, nothing pending, no retry"), { timeout: TIMEOUT }, () =>
  withStack(STEP_UP, async (servers, newPage) => {
    const page = await newPage()
    await signedIn(page, servers)
    await addCallButton(page, `${servers.api.url}/api/strong`)
    servers.resetStats()
    const result = await clickCall(page)
    // The app can read the challenge from it and ask again from a click (readChallenge + loginWithPopup).
    assertMatch(result, { ok: true, status: 401 }, JSON.stringify(result))
    assert.deepEqual((await events(page, 'error')).map((e) => e.payload.error.code), ['popup_blocked'])
    assert.equal(servers.api.stats.byRoute['/api/strong'], 1)
    assert.deepEqual(authorizationRequests(servers), [])
    assert.deepEqual(await pendingSignIns(page), NOTHING_PENDING)
    assertMatch(await snapshot(page), { status: 'authenticated', user: { sub: 'alice' } })
    assertMatch(await call(page, `${servers.api.url}/api/me`), { ok: true, status: 200, body: { acr: PWD } })
  }))

test(name("step-up in a second click (stepUp 'none', readChallenge, loginWithPopup with what it asks): works with the popup blocker on"), { timeout: TIMEOUT }, () =>
  withStack({ provider: { acrValues: [PWD, MFA], coop: true } }, async (servers, newPage) => {
    const page = await newPage()
    await signedIn(page, servers)
    const url = `${servers.api.url}/api/strong`
    const { challenge } = await page.evaluate((u) => window.e2e.challenge(u), url)
    assertMatch(challenge, { error: 'insufficient_user_authentication', acrValues: [MFA], maxAge: 300 })
    const popup = await clickPopup(browser, page, { acrValues: challenge.acrValues, maxAge: challenge.maxAge }, atForm(servers))
    await loginInPopup(popup, servers)
    assertMatch(await popupOutcome(page), { ok: true, user: { sub: 'alice', acr: MFA } })
    assertMatch(await call(page, url), { ok: true, status: 200, body: { acr: MFA } })
    assertMatch(authorizationRequests(servers).at(-1), { acrValues: MFA, maxAge: '300' })
  }))

// stepUp: 'popup' itself, from a click: in Chromium and Firefox with the popup blocker on, in WebKit
// in a browser whose blocker is off (see above)

test(name('step-up: an acr challenge (RFC 9470) signs in again in a popup with acr_values and max_age; the request is retried once'), { timeout: TIMEOUT }, () =>
  withStepUpStack(STEP_UP, async (servers, newPage, browser) => {
    const page = await newPage()
    await signedIn(page, servers)
    assertMatch(await call(page, `${servers.api.url}/api/me`), { body: { acr: PWD } })
    await addCallButton(page, `${servers.api.url}/api/strong`)
    servers.resetStats()
    let popup
    const result = await clickCall(page, {
      during: async () => {
        popup = await browser.waitForPage(atForm(servers))
        await loginInPopup(popup, servers)
      },
    })
    assertMatch(result, { ok: true, status: 200, body: { acr: MFA, sub: 'alice' } }, JSON.stringify(result))
    assertMatch(authorizationRequests(servers), [{ acrValues: MFA, maxAge: '300' }])
    assert.equal(authorizationRequests(servers).length, 1)
    assert.equal(servers.api.stats.byRoute['/api/strong'], 2)
    assert.equal((await snapshot(page)).user.acr, MFA)
    await eventually(() => popup.isClosed(), 'the popup did not close itself')
  }))

test(name('step-up: a scope challenge (RFC 6750) asks for the union of scopes in a popup; the retry has the scope'), { timeout: TIMEOUT }, () =>
  withStepUpStack(STEP_UP, async (servers, newPage, browser) => {
    const page = await newPage()
    await signedIn(page, servers)
    await addCallButton(page, `${servers.api.url}/api/write`)
    servers.resetStats()
    // The provider consents without a form: the popup opens, comes back and closes by itself.
    const result = await clickCall(page)
    assertMatch(result, { ok: true, status: 200 }, JSON.stringify(result))
    assert.ok(result.body.scope.split(' ').includes('api:write'), `scope: ${result.body.scope}`)
    const auths = authorizationRequests(servers)
    assert.equal(auths.length, 1)
    assert.deepEqual(auths[0].scope.split(' ').sort(), ['api:write', 'email', 'offline_access', 'openid', 'profile'])
    assert.equal(servers.provider.stats.logins.ok, 0, 'the provider showed its form')
    assert.equal(servers.api.stats.byRoute['/api/write'], 2)
  }))

test(name('step-up: a challenge the new token still meets is returned, not looped'), { timeout: TIMEOUT }, () =>
  withStepUpStack(STEP_UP, async (servers, newPage, browser) => {
    const page = await newPage()
    await signedIn(page, servers)
    servers.api.stepUp.scope = 'api:admin' // a scope the provider never grants
    await addCallButton(page, `${servers.api.url}/api/write`)
    servers.resetStats()
    const first = await clickCall(page)
    assertMatch(first, { ok: true, status: 403 }, JSON.stringify(first))
    assert.ok(first.wwwAuthenticate.includes('insufficient_scope'))
    assert.equal(authorizationRequests(servers).length, 1, 'one popup sign-in')
    assert.equal(servers.api.stats.byRoute['/api/write'], 2, 'one retry')
    const second = await clickCall(page)
    assertMatch(second, { ok: true, status: 403 })
    assert.equal(authorizationRequests(servers).length, 1, 'a second popup for the same challenge')
    assert.equal(servers.api.stats.byRoute['/api/write'], 3)
  }))
