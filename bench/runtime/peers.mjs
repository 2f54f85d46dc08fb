// oauth-spa side by side with oidc-client-ts and @auth0/auth0-spa-js at runtime: the same bundled
// OpenID Provider, the same API, the same Chromium, each SDK driven through its public API by a
// small page (pages/peers/), runs interleaved (the SDK order rotates per repetition).
//
// Per repetition and SDK, in a fresh browser context: cold start (signed out: load → ready), a real
// sign-in through the provider's form (callback → user), reloads (→ authenticated), the hot token
// path, a burst of concurrent getAccessToken() calls after expiry, and 3 tabs after expiry.
import http from 'node:http'
import { syncBuiltinESMExports } from 'node:module'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { chromium } from 'playwright-core'

import { CHROMIUM_ARGS } from '../../test/e2e/browser.mjs'
import { startStatic } from '../../demo/server/static.mjs'
import { median, quantile } from '../lib.mjs'
import { OAUTH_SPA_BUILD, oauthSpaPageRoutes } from './app-bundle.mjs'

/** The bundled provider and API: dev-provider/ once they move there from demo/server/, either way. */
async function devServerModule(file) {
  try {
    return await import(`../../dev-provider/${file}`)
  } catch (e) {
    if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes(`dev-provider/${file}`)) throw e
    return import(`../../demo/server/${file}`)
  }
}
const { startApi } = await devServerModule('api.mjs')
const { startProvider } = await devServerModule('provider.mjs')

const HERE = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(HERE, '..', '..')
const BENCH_MODULES = path.join(REPO, 'bench', 'node_modules')
export const SDKS = process.env.BENCH_SDKS?.split(',') ?? ['oauth-spa', 'oidc-client-ts', 'auth0-spa-js']
const CLIENT_ID = 'peers-bench'
const ACCESS_TOKEN_TTL = 600
/** How far each page's clock jumps to put the access token past its expiry (TTL + 1 min); four jumps stay within the ID token's hour. */
const EXPIRY_JUMP_MS = (ACCESS_TOKEN_TTL + 60) * 1000

/**
 * Every page of the bench contexts reads its clock skew from localStorage (set by the runner through
 * `peer.setSkew`) and adds it to Date.now(), before any script of the page runs. Each SDK decides
 * from Date.now() whether its token has expired; the provider and the API keep the real time.
 */
export const CLOCK_SKEW_INIT = `(() => {
  const real = Date.now.bind(Date)
  let skew = 0
  try { skew = Number(localStorage.getItem('__bench_skew') ?? 0) } catch {}
  window.__skewMs = skew
  Date.now = () => real() + window.__skewMs
})()`

export function peerPlan(quick) {
  return quick
    ? { reps: 1, colds: 1, reloads: 2, hot: { n: 2_000, rounds: 4, mapGetMultiplier: 5 }, burst: 100, tabs: 3 }
    : // hot: many short rounds, and the best round per variant: on a machine this loaded a long round
      // is more often descheduled than a short one, which biases a median against the slower variant.
      // Rounds stay ≥ 1 ms: performance.now() is coarsened to 0.1 ms in a page that is not cross-origin
      // isolated, so the awaited Map.get runs 5× as many calls.
      // colds: cold starts per repetition, each in a fresh context (one per repetition left the median to 3 samples).
      // reps: 7, since a callback is measured once per repetition (3 left its median to 3 samples).
      { reps: 7, colds: 3, reloads: 3, hot: { n: 10_000, rounds: 10, mapGetMultiplier: 5 }, burst: 100, tabs: 3 }
}

/**
 * auth0-spa-js has no discovery: it calls `<domain>/authorize` and `<domain>/oauth/token` and expects
 * `iss` to be `<domain>/`. The provider is started with the issuer `http://127.0.0.1:<port>/` and
 * Auth0's two paths are mapped onto oidc-provider's (/auth, /token) in front of it, as an Auth0
 * tenant has them; oauth-spa and oidc-client-ts find the same endpoints through discovery.
 * startProvider has no option for route paths, so the bench wraps the request handler of the
 * server it creates (http.createServer, patched only while the provider starts).
 */
async function startAuth0ShapedProvider(options) {
  const createServer = http.createServer
  http.createServer = (handler) =>
    createServer.call(http, (req, res) => {
      if (req.url.startsWith('/authorize')) req.url = `/auth${req.url.slice('/authorize'.length)}`
      else if (req.url.startsWith('/oauth/token')) req.url = `/token${req.url.slice('/oauth/token'.length)}`
      return handler(req, res)
    })
  syncBuiltinESMExports() // a named `import { createServer } from 'node:http'` sees it too
  try {
    return await startProvider({ ...options, issuerPath: '/', defaultResourceFrom: 'audience' })
  } finally {
    http.createServer = createServer
    syncBuiltinESMExports()
  }
}

export async function startPeerStack({ root = path.join(HERE, 'pages') } = {}) {
  const stack = {}
  const vendor = (file) => ({ status: 200, headers: { 'Content-Type': 'text/javascript; charset=utf-8' }, body: readFileSync(path.join(BENCH_MODULES, file), 'utf8') })
  const auth0 = vendor('@auth0/auth0-spa-js/dist/auth0-spa-js.production.esm.js')
  const oidc = vendor('oidc-client-ts/dist/browser/oidc-client-ts.min.js')
  const oauthSpaPage = root === path.join(HERE, 'pages') ? await oauthSpaPageRoutes() : {}
  stack.app = await startStatic({
    root,
    routes: {
      ...oauthSpaPage,
      '/bench-config.js': () => ({ status: 200, headers: { 'Content-Type': 'text/javascript; charset=utf-8' }, body: `export default ${JSON.stringify(stack.config)}\n` }),
      '/vendor/auth0-spa-js.production.esm.js': auth0,
      '/vendor/oidc-client-ts.min.js': oidc,
    },
    csp: { connectSrc: () => [stack.provider?.origin, stack.api?.origin] },
  })
  const app = stack.app.origin
  stack.provider = await startAuth0ShapedProvider({
    clients: [{ clientId: CLIENT_ID, redirectUris: SDKS.map((s) => `${app}/peers/${s}.html`), postLogoutRedirectUris: [`${app}/`], origins: [app] }],
    accessTokenTTL: ACCESS_TOKEN_TTL,
  })
  stack.api = await startApi({ issuer: stack.provider.issuer, jwksUri: `${stack.provider.origin}/jwks`, allowedOrigins: [app] })
  stack.provider.addResource({ audience: stack.api.audience, accessTokenTTL: ACCESS_TOKEN_TTL })
  const issuer = stack.provider.issuer
  stack.config = {
    apiUrl: `${stack.api.origin}/api/me`,
    oauthSpa: { issuer, clientId: CLIENT_ID, resource: stack.api.audience, apiOrigins: [stack.api.origin], allowInsecureRequests: true },
    oidcClientTs: { authority: issuer, client_id: CLIENT_ID, scope: 'openid profile email offline_access', resource: stack.api.audience },
    auth0SpaJs: { domain: stack.provider.origin, clientId: CLIENT_ID, authorizationParams: { audience: stack.api.audience, scope: 'openid profile email offline_access' } },
  }
  stack.close = () => Promise.allSettled([stack.app, stack.provider, stack.api].map((s) => s.close()))
  return stack
}

/** Waits for the page's `window.__t` (set when the SDK is ready); times from the start of the page's own fetch. */
export async function readyTiming(page) {
  await page.waitForFunction(() => window.__t !== undefined, null, { timeout: 30_000 })
  return page.evaluate(() => {
    const nav = performance.getEntriesByType('navigation')[0]
    return { ...window.__t, fetchStart: nav?.fetchStart ?? 0, ms: window.__t.ready - (nav?.fetchStart ?? 0) }
  })
}

export async function signIn(page, stack) {
  const user = stack.provider.users[0]
  await page.evaluate(() => window.peer.login())
  await page.waitForURL((u) => u.href.startsWith(`${stack.provider.origin}/interaction/`) || (u.origin === stack.app.origin && u.searchParams.has('code')), { timeout: 30_000 })
  if (page.url().startsWith(stack.app.origin)) return // the provider still had a session
  await page.fill('#login', user.username)
  await page.fill('#password', user.password)
  await page.click('#submit')
  await page.waitForURL((u) => u.origin === stack.app.origin, { timeout: 15_000 })
}

const grantsOf = (stats) => ({ refresh: stats.grants.refresh_token ?? 0, code: stats.grants.authorization_code ?? 0, invalidGrant: stats.grantErrors.refresh_token?.invalid_grant ?? 0 })

async function onePass(browser, stack, sdk, plan) {
  const context = await browser.newContext()
  await context.addInitScript(CLOCK_SKEW_INIT)
  const errors = []
  const open = async () => {
    const page = await context.newPage()
    page.on('pageerror', (e) => errors.push(e.message))
    return page
  }
  const url = `${stack.app.origin}/peers/${sdk}.html`
  const out = { sdk, colds: [] }
  try {
    for (let i = 1; i < plan.colds; i++) {
      const fresh = await browser.newContext()
      try {
        await fresh.addInitScript(CLOCK_SKEW_INIT)
        const p = await fresh.newPage()
        p.on('pageerror', (e) => errors.push(e.message))
        await p.goto(url)
        const t = await readyTiming(p)
        if (t.status !== 'unauthenticated') throw new Error(`${sdk}: a fresh profile should start signed out, got ${t.status}`)
        out.colds.push(t)
      } finally {
        await fresh.close()
      }
    }
    const page = await open()
    await page.goto(url)
    out.cold = await readyTiming(page)
    if (out.cold.status !== 'unauthenticated') throw new Error(`${sdk}: a fresh profile should start signed out, got ${out.cold.status}`)
    stack.provider.stats.reset()
    await signIn(page, stack)
    out.callback = await readyTiming(page)
    if (out.callback.status !== 'authenticated' || !out.callback.hasUser) throw new Error(`${sdk}: callback ended in ${out.callback.status}, user ${out.callback.hasUser}`)
    out.reloads = []
    for (let i = 0; i < plan.reloads; i++) {
      await page.reload()
      out.reloads.push(await readyTiming(page))
    }
    out.hot = await page.evaluate((p) => window.peer.hotPath(p), plan.hot)

    // Burst: the clock jumps past the expiry, then `burst` concurrent calls in this one tab.
    await page.evaluate((ms) => window.peer.setSkew(ms), EXPIRY_JUMP_MS)
    stack.provider.stats.reset()
    const b = await page.evaluate((a) => window.peer.burst(a), { count: plan.burst, startAt: Date.now() + 100 })
    out.burst = { ...b, tokens: b.tokens.length, apiStatuses: await page.evaluate((t) => window.peer.apiStatuses(t), b.tokens), grants: grantsOf(stack.provider.stats) }
    // Is the session still there? A token the API takes, after one more jump past the expiry (a refresh must work).
    await page.evaluate((ms) => window.peer.setSkew(ms), 2 * EXPIRY_JUMP_MS)
    out.burst.after = await page.evaluate(() => window.peer.check())
    if (!out.burst.after.ok) {
      // The burst cost the session: sign in again, so that the tabs figure starts from a live one.
      await signIn(page, stack)
      const t = await readyTiming(page)
      if (t.status !== 'authenticated') throw new Error(`${sdk}: sign-in again after the burst ended in ${t.status}`)
      out.burst.signedInAgain = true
    }

    // Tabs: 2 more tabs of the same app, then the clock jumps past the expiry again in all 3, and
    // each asks for a token at the same instant. Lost = a tab that cannot get a token the API takes.
    const pages = [page]
    for (let i = 1; i < plan.tabs; i++) {
      const p = await open()
      await p.goto(url)
      const t = await readyTiming(p)
      if (t.status !== 'authenticated') throw new Error(`${sdk}: tab ${i} is not signed in (${t.status})`)
      pages.push(p)
    }
    for (const p of pages) await p.evaluate((ms) => window.peer.setSkew(ms), 3 * EXPIRY_JUMP_MS)
    stack.provider.stats.reset()
    const startAt = Date.now() + 300
    const racers = await Promise.all(pages.map((p) => p.evaluate((a) => window.peer.burst(a), { count: 1, startAt })))
    const raceGrants = grantsOf(stack.provider.stats)
    // Lost or not shows at the next expiry (a refresh token revoked for reuse still leaves the
    // access token the API accepts): the clock jumps once more and the tabs ask one after another.
    for (const p of pages) await p.evaluate((ms) => window.peer.setSkew(ms), 4 * EXPIRY_JUMP_MS)
    const checks = []
    for (const p of pages) checks.push(await p.evaluate(() => window.peer.check()))
    out.tabs = {
      grants: raceGrants,
      raceErrors: racers.reduce((a, r) => a + Object.values(r.errors).reduce((x, y) => x + y, 0), 0),
      tabsWithoutToken: checks.filter((c) => !c.ok).length,
      checks: checks.map((c) => c.status),
      sessionLost: checks.some((c) => !c.ok),
    }
  } finally {
    out.pageErrors = errors
    await context.close()
  }
  return out
}

export async function runPeerBench({ log = console.log, quick = false } = {}) {
  const plan = peerPlan(quick)
  const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
  // BENCH_PAGES (as in phases.mjs): another copy of pages/, e.g. with an adapter per build of the
  // SDK (BENCH_SDKS=oauth-spa,oauth-spa-base,…) to compare two builds side by side, interleaved.
  // Its oauth-spa pages load the standalone build (the app bundle is made for pages/ only).
  const stack = await startPeerStack(process.env.BENCH_PAGES ? { root: path.resolve(process.env.BENCH_PAGES) } : {})
  const browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS })
  const chromiumVersion = browser.version()
  const passes = Object.fromEntries(SDKS.map((s) => [s, []]))
  const version = (p) => JSON.parse(readFileSync(path.join(p.startsWith('oauth-spa') ? REPO : path.join(BENCH_MODULES, p), 'package.json'), 'utf8')).version
  try {
    for (let r = 0; r < plan.reps; r++) {
      const order = SDKS.map((_, i) => SDKS[(i + r) % SDKS.length])
      for (const sdk of order) {
        const t0 = performance.now()
        const pass = await onePass(browser, stack, sdk, plan)
        passes[sdk].push(pass)
        log(`  rep ${r + 1}/${plan.reps} ${sdk}: ${Math.round(performance.now() - t0)} ms (burst: ${pass.burst.grants.refresh} refresh grants; tabs: ${pass.tabs.grants.refresh} grants, ${pass.tabs.tabsWithoutToken} tabs without a token)`)
      }
    }
  } finally {
    await browser.close()
    await stack.close()
  }
  const summary = {}
  for (const sdk of SDKS) {
    const ps = passes[sdk]
    const ratios = ps.flatMap((p) => p.hot.nsPerCall.getAccessToken.map((g, i) => g / p.hot.nsPerCall.mapGet[i]))
    const best = (name) => Math.min(...ps.flatMap((p) => p.hot.nsPerCall[name]))
    const stat = (values) => ({ median: median(values), p25: quantile(values, 0.25), p75: quantile(values, 0.75), n: values.length })
    summary[sdk] = {
      version: version(sdk === 'oauth-spa' ? sdk : sdk === 'auth0-spa-js' ? '@auth0/auth0-spa-js' : sdk),
      hot: {
        bestNsPerCall: { getAccessToken: best('getAccessToken'), mapGet: best('mapGet') },
        bestRatio: best('getAccessToken') / best('mapGet'),
        ratioVsMapGet: stat(ratios),
        nsPerCall: stat(ps.flatMap((p) => p.hot.nsPerCall.getAccessToken)),
        sameToken: ps.every((p) => p.hot.sameToken),
      },
      coldMs: stat(ps.flatMap((p) => [p.cold, ...p.colds].map((c) => c.ms))),
      callbackMs: stat(ps.map((p) => p.callback.ms)),
      reloadMs: stat(ps.flatMap((p) => p.reloads.map((x) => x.ms))),
      reloadAuthenticated: ps.every((p) => p.reloads.every((x) => x.status === 'authenticated')),
      burst: {
        refreshGrantsPerRep: ps.map((p) => p.burst.grants.refresh),
        invalidGrantPerRep: ps.map((p) => p.burst.grants.invalidGrant),
        failedCallsPerRep: ps.map((p) => plan.burst - p.burst.ok),
        errorsPerRep: ps.map((p) => p.burst.errors),
        distinctTokensPerRep: ps.map((p) => p.burst.tokens),
        tokensRejectedByApi: ps.reduce((a, p) => a + p.burst.apiStatuses.filter((s) => s !== 200).length, 0),
        sessionsLost: ps.filter((p) => !p.burst.after.ok).length,
        afterPerRep: ps.map((p) => p.burst.after.status),
        ms: stat(ps.map((p) => p.burst.ms)),
      },
      tabs: {
        refreshGrantsPerRep: ps.map((p) => p.tabs.grants.refresh),
        invalidGrantPerRep: ps.map((p) => p.tabs.grants.invalidGrant),
        tabsWithoutTokenPerRep: ps.map((p) => p.tabs.tabsWithoutToken),
        checksPerRep: ps.map((p) => p.tabs.checks),
        sessionsLost: ps.filter((p) => p.tabs.sessionLost).length,
      },
      pageErrors: ps.flatMap((p) => p.pageErrors),
    }
  }
  return { plan, chromium: chromiumVersion, oauthSpaBuild: process.env.BENCH_PAGES ? 'standalone' : OAUTH_SPA_BUILD, skewMs: EXPIRY_JUMP_MS, accessTokenTTL: ACCESS_TOKEN_TTL, summary, raw: passes }
}
