// The React entry end to end (issue 4): a small React page built from the repo
// (test/e2e/react-app, bundled by react-app/build.mjs from dist/index.js + dist/react.js + react +
// react-dom) signs in against the real provider in Chromium, shows the user's name, calls the API
// through useAuth().fetch and signs out. The page runs in <StrictMode> with React in development
// mode, where StrictMode really runs every effect twice; the provider still sees exactly one
// authorization_code grant. Strict CSP (script-src 'self'), as for the other e2e app.
import path from 'node:path'

import { test as base, expect } from './fixtures.mjs'
import { buildReactApp } from './react-app/build.mjs'
import { submitLogin } from './support/browser-helpers.mjs'

const test = base.extend({
  /** The built page, once per worker: { dir, mode, ms, bytes, modules }. */
  reactApp: [
    async ({}, use, workerInfo) => {
      const built = await buildReactApp({ outDir: path.join(workerInfo.project.outputDir, `react-app-build-${workerInfo.workerIndex}`) })
      await use(built)
    },
    { scope: 'worker', timeout: 120_000 },
  ],
  // The standard e2e stack (static server with /app-config.json and the strict CSP, provider,
  // API, echo server), serving the built React page instead of test/e2e/app.
  stack: async ({ reactApp }, use) => {
    await use({ appRoot: reactApp.dir })
  },
})

/** A URL without query and fragment (an end-session URL carries the ID token as id_token_hint). */
function bare(url) {
  try {
    const u = new URL(url)
    return u.origin + u.pathname
  } catch {
    return String(url ?? '')
  }
}

/** Console errors and uncaught exceptions of every page of the context, with the page's URL. */
function collectPageErrors(context) {
  const errors = []
  const watch = (page) => {
    page.on('console', (msg) => {
      if (msg.type() === 'error') errors.push({ kind: 'console', url: bare(page.url()), source: bare(msg.location()?.url), text: msg.text() })
    })
    page.on('pageerror', (err) => errors.push({ kind: 'pageerror', url: bare(page.url()), source: '', text: String(err?.stack ?? err) }))
  }
  context.pages().forEach(watch)
  context.on('page', watch)
  return errors
}

test('React page in StrictMode: RequireAuth signs in through the provider, one code grant, user name, API via useAuth().fetch, sign-out', async ({ page, context, servers, reactApp }) => {
  test.setTimeout(120_000)
  const { provider, api } = servers
  const app = servers.app.origin
  const protectedPath = '/protected/profile?tab=api#top'
  test.info().annotations.push({ type: 'react-app build', description: `${reactApp.mode}, ${reactApp.ms} ms, ${(reactApp.bytes / 1024).toFixed(0)} KB` })

  // GET /auth?… starts a sign-in; /auth/<uid> is the provider resuming it after its login form.
  const isAuthorizationRequest = (u) => new URL(u).origin === provider.issuer && new URL(u).pathname === '/auth'
  const errors = collectPageErrors(context)
  const navigations = []
  page.on('request', (r) => {
    if (r.isNavigationRequest() && r.frame() === page.mainFrame()) navigations.push(r.url())
  })

  // 1. The protected path, signed out: <RequireAuth> starts login({ returnTo: that path }) and the
  //    browser lands on the provider's login form.
  await page.goto(`${app}${protectedPath}`)
  await page.waitForURL((u) => u.href.startsWith(`${provider.issuer}/interaction/`), { timeout: 30_000 })
  await expect(page.locator('input[name=login]')).toBeVisible()
  const authRequests = navigations.filter(isAuthorizationRequest)
  expect(authRequests, 'one authorization request').toHaveLength(1)
  const authUrl = new URL(authRequests[0])
  expect(authUrl.searchParams.get('redirect_uri')).toBe(servers.redirectUri)
  expect(authUrl.searchParams.get('code_challenge_method')).toBe('S256')
  // appState stays on the device: not in the authorization request.
  // (The note's «Q3» with its guillemets: a bare "Q3" turns up in a random nonce about once in a hundred runs.)
  expect(decodeURIComponent(authUrl.href)).not.toContain('«Q3»')
  expect(decodeURIComponent(authUrl.href)).not.toContain('RequireAuth')

  // 2. The provider's real form; it redirects to /callback, where <AuthProvider> redeems the code.
  const callbackRequest = page.waitForRequest((r) => r.isNavigationRequest() && r.url().startsWith(`${app}/callback`))
  await submitLogin(page, { username: 'alice', password: 'wonderland' })
  const callbackUrl = new URL((await callbackRequest).url())
  expect(callbackUrl.searchParams.get('code')).toBeTruthy()
  expect(decodeURIComponent(callbackUrl.href)).not.toContain('«Q3»')

  // 3. Signed in: the header shows the user, and the app is back on the protected path.
  await expect(page.locator('#status')).toHaveText('authenticated', { timeout: 20_000 })
  await expect(page.locator('#user-sub')).toHaveText('alice')
  await expect(page.locator('#user-name')).toHaveText('Alice Liddell')
  await expect(page.locator('#return-to')).toHaveText(protectedPath)
  await expect(page.locator('#redirect-callbacks')).toHaveText('1')
  await expect(page).toHaveURL(`${app}${protectedPath}`)
  await expect(page.locator('#path')).toHaveText('/protected/profile')
  await expect(page.locator('#error')).toHaveCount(0)
  // login({ appState }) came back through the real redirect to onRedirectCallback(returnTo, result).
  expect(JSON.parse(await page.locator('#app-state').textContent())).toEqual({ via: 'RequireAuth', startedAt: '/protected/profile', note: 'Draft «Q3»' })
  await expect(page.locator('#flags')).toHaveText('authenticated=true loading=false')
  // getIdToken(): the ID token of this sign-in, issued to this client.
  await expect(page.locator('#id-token-aud')).toHaveText(servers.clientId)
  // StrictMode was really active (React development build): the probe effect ran twice.
  await expect(page.locator('#strict-effects')).toHaveText('2')

  // 4. The protected section called the API through useAuth().fetch with a Bearer token.
  const apiResult = page.locator('#api-result')
  await expect(apiResult).not.toBeEmpty({ timeout: 15_000 })
  const me = JSON.parse(await apiResult.textContent())
  expect(me).toMatchObject({ status: 200, body: { sub: 'alice', aud: api.audience, iss: provider.issuer } })
  expect(api.stats.byRoute['/api/me']).toBeGreaterThanOrEqual(1)
  expect(api.stats.schemes.filter((s) => s !== 'Bearer'), 'every API request carried a Bearer token').toEqual([])
  expect(api.stats.unauthorized).toEqual({})

  // 5. Exactly one code redeemed at the provider despite StrictMode's double effects, one
  //    authorization (RequireAuth started no second sign-in on /callback), no token errors.
  //    Give a stray second redemption time to show up before counting.
  await page.waitForTimeout(1_000)
  expect(provider.stats.grants.authorization_code, 'authorization_code grants at the provider').toBe(1)
  expect(provider.stats.grantErrors).toEqual({})
  expect(provider.stats.authorizations).toEqual({ success: 1, error: 0 })
  expect(navigations.filter(isAuthorizationRequest)).toHaveLength(1)
  expect(navigations.filter((u) => u.startsWith(`${app}/callback`))).toHaveLength(1)

  // 6. Sign out from the protected page: logout() wipes the session (the state turns
  //    'unauthenticated' while the page is still on the protected path), revokes the refresh
  //    token, then leaves for the provider's end-session page. <RequireAuth> must not take that
  //    state for "signed out, sign in again": a login() started now races the end-session
  //    navigation, and when it wins the provider (whose session is still alive) signs the user
  //    straight back in.
  const navigationsBeforeSignOut = navigations.length
  const isEndSession = (u) => u.startsWith(`${provider.issuer}/session/end`)
  const signOutNavigations = () => navigations.slice(navigationsBeforeSignOut).map(bare)
  const firstNavigation = page.waitForRequest((r) => r.isNavigationRequest() && r.frame() === page.mainFrame() && (isEndSession(r.url()) || isAuthorizationRequest(r.url())), { timeout: 20_000 })
  const endSession = page.waitForRequest((r) => r.isNavigationRequest() && isEndSession(r.url()), { timeout: 20_000 }).catch(() => undefined)
  await page.click('#sign-out')
  const first = await firstNavigation
  expect.soft(
    signOutNavigations().filter((u) => !isEndSession(u)),
    'sign-out goes straight to end-session: no sign-in started by <RequireAuth> during logout()',
  ).toEqual([])
  const endSessionRequest = await endSession
  if (endSessionRequest === undefined) {
    throw new Error(
      'sign-out never reached the end-session endpoint: a sign-in started during logout() navigated first ' +
        `(${isAuthorizationRequest(first.url()) ? 'first navigation after the click: /auth' : 'end-session seen first'}; ` +
        `navigations: ${signOutNavigations().join(' → ')}; authorization_code grants now ${provider.stats.grants.authorization_code}; ` +
        `page status: ${await page.locator('#status').textContent().catch(() => '?')})`,
    )
  }
  const endSessionUrl = new URL(endSessionRequest.url())
  expect(endSessionUrl.searchParams.get('post_logout_redirect_uri')).toBe(servers.postLogoutRedirectUri)
  expect(endSessionUrl.searchParams.get('client_id')).toBe(servers.clientId)
  await page.waitForURL((u) => u.href.startsWith(`${provider.issuer}/session/end`))
  await page.click('#logout-yes')
  await page.waitForURL((u) => u.origin === app && u.pathname === '/logged-out', { timeout: 20_000 })
  await expect(page.locator('#status')).toHaveText('unauthenticated', { timeout: 15_000 })
  await expect(page.locator('#user-name')).toHaveText('')
  await expect(page.locator('#flags')).toHaveText('authenticated=false loading=false')
  await expect(page.locator('#id-token-aud')).toHaveText('')
  await expect(page.locator('#sign-out')).toHaveCount(0)
  await expect(page.locator('#public')).toBeVisible()
  expect(provider.stats.endSessions).toBe(1)
  expect(provider.stats.revocations).toBeGreaterThanOrEqual(1)
  // The public page starts no sign-in, and no further code was redeemed.
  await page.waitForTimeout(1_000)
  await expect(page).toHaveURL(`${app}/logged-out`)
  expect(provider.stats.grants.authorization_code).toBe(1)

  // 7. No console error and no uncaught exception on the app's pages (React's development
  //    warnings are console errors too). Errors on the provider's pages are reported, not failed.
  const appErrors = errors.filter((e) => e.url.startsWith(app) || e.source.startsWith(app))
  const otherErrors = errors.filter((e) => !appErrors.includes(e))
  if (otherErrors.length) test.info().annotations.push({ type: 'console errors outside the app', description: JSON.stringify(otherErrors) })
  expect(appErrors).toEqual([])
})
