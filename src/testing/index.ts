// `oauth-spa/testing`: what an app's own end-to-end tests (Playwright, or anything with a cookie
// jar) need to sign a user in against the dev provider without clicking through its form.
// Node only; it never runs in the app. See docs/testing.md.

/** The cookie the dev provider reads, when started with `--test-login`, to sign a user in at once. */
export const TEST_LOGIN_COOKIE = 'oauth_spa_test_user'

/** A cookie in the shape Playwright's `BrowserContext.addCookies` takes. */
export interface TestLoginCookie {
  /** always {@link TEST_LOGIN_COOKIE} */
  name: string
  /** the username to sign in as */
  value: string
  /** the dev provider's issuer: the cookie is scoped to it */
  url: string
}

/** Anything with Playwright's `addCookies` (a `BrowserContext`); no Playwright types are needed. */
export interface CookieJar {
  /** Adds cookies to the jar. */
  addCookies(cookies: TestLoginCookie[]): Promise<void>
}

/** Options of {@link testLoginCookie} and {@link useTestUser}. */
export interface TestUserOptions {
  /** the dev provider's issuer, e.g. `http://127.0.0.1:5174` */
  issuer: string
  /** a username the dev provider knows (default users: `alice`, `bob`) */
  user: string
}

/**
 * The cookie that makes the dev provider (started with `--test-login`) sign `user` in without
 * showing its form: the next `auth.login()` in that browser returns signed in.
 * @throws TypeError when `issuer` is not an absolute http(s) URL or `user` is empty
 */
export function testLoginCookie(options: TestUserOptions): TestLoginCookie {
  let issuer: URL
  try {
    issuer = new URL(options.issuer)
  } catch {
    throw new TypeError(`testLoginCookie: issuer must be an absolute URL, got ${JSON.stringify(options.issuer)}`)
  }
  if (issuer.protocol !== 'http:' && issuer.protocol !== 'https:') throw new TypeError('testLoginCookie: issuer must be an http(s) URL')
  if (typeof options.user !== 'string' || options.user.length === 0) throw new TypeError('testLoginCookie: user is required')
  return { name: TEST_LOGIN_COOKIE, value: options.user, url: issuer.origin }
}

/**
 * Sets the test-login cookie in a browser context, so every sign-in there completes as `user`
 * without the provider's form:
 *
 * ```ts
 * await useTestUser(page.context(), { issuer, user: 'alice' })
 * await page.getByRole('button', { name: 'Sign in' }).click()   // your app calls auth.login()
 * await expect(page.getByText('Alice')).toBeVisible()
 * ```
 */
export async function useTestUser(context: CookieJar, options: TestUserOptions): Promise<void> {
  await context.addCookies([testLoginCookie(options)])
}

/** Options of {@link startDevProvider}: the same as `npx oauth-spa dev-provider`'s flags. */
export interface DevProviderOptions {
  /** the public client's id */
  clientId: string
  /** the app's redirect URI(s) */
  redirectUri: string | string[]
  /** where logout returns; default: each redirect URI's origin with `/` */
  postLogoutRedirectUri?: string | string[]
  /** origins allowed to call the provider (CORS); default: the redirect URIs' origins */
  origin?: string | string[]
  /** users who can sign in; default alice / wonderland and bob / builder */
  users?: { username: string; password: string; sub?: string; claims?: Record<string, unknown> }[]
  /** the client must use DPoP */
  dpop?: boolean
  /** provider port, default 5174 (0: any free port) */
  port?: number
  /** also start the echo API that validates access tokens */
  api?: boolean
  /** its port, default 5175 (0: any free port) */
  apiPort?: number
  /** honour the cookie of {@link useTestUser} */
  testLogin?: boolean
  /** access token lifetime in seconds, default 600 */
  accessTokenTTL?: number
}

/** The options to pass to `createOAuthClient` for the dev provider. */
export interface DevProviderClientOptions {
  /** the dev provider's issuer */
  issuer: string
  /** as given */
  clientId: string
  /** the first redirect URI */
  redirectUri: string
  /** the first post-logout redirect URI */
  postLogoutRedirectUri: string
  /** scopes to request */
  scope: string
  /** the echo API's audience, when it runs */
  resource?: string
  /** the echo API's origin, when it runs */
  apiOrigins?: string[]
  /** when the client must use DPoP */
  dpop?: boolean
  /** always true: the dev provider is http:// on 127.0.0.1 */
  allowInsecureRequests: true
}

/** A running dev provider. */
export interface DevProvider {
  /** `http://127.0.0.1:PORT` */
  issuer: string
  /** the provider's port */
  port: number
  /** what to pass to `createOAuthClient` */
  clientOptions: DevProviderClientOptions
  /** who can sign in */
  users: { username: string; password: string }[]
  /** whether {@link useTestUser}'s cookie is honoured */
  testLogin: boolean
  /** the echo API, when started */
  api?: { origin: string; audience: string; me: string; echo: string }
  /** Stops the servers. */
  close(): Promise<void>
}

/**
 * Starts the dev provider in this process (for a Playwright `globalSetup`, say). Needs the
 * optional peer dependencies oidc-provider and jose (`npm i -D oidc-provider jose`).
 */
export async function startDevProvider(options: DevProviderOptions): Promise<DevProvider> {
  // Shipped as plain JavaScript beside dist/ (the CLI runs the same files).
  const url = new URL('../dev-provider/index.mjs', import.meta.url).href
  const mod = (await import(/* @vite-ignore */ url)) as { startDevProvider(o: DevProviderOptions): Promise<DevProvider> }
  return mod.startDevProvider(options)
}
