// The development OpenID Provider an app runs against on this machine (`npx oauth-spa
// dev-provider`, or `startDevProvider()` from `oauth-spa/testing`): the same oidc-provider
// configuration the SDK's own end-to-end suite uses, plus, optionally, a token-validating echo API.
//
// For development and tests only: everything listens on 127.0.0.1, keys and sessions live in
// memory and die with the process. Needs the optional peer dependencies oidc-provider and jose
// (`npm i -D oidc-provider jose`); importing this module without them fails with
// DevProviderSetupError saying so.

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])
export const DEFAULT_PORTS = Object.freeze({ provider: 5174, api: 5175 })
export const DEFAULT_SCOPE = 'openid profile email offline_access'
export const INSTALL_HINT = 'npm i -D oidc-provider jose'

/** A missing optional peer dependency or a bad option: the message says what to do. */
export class DevProviderSetupError extends Error {
  constructor(message, options) {
    super(message, options)
    this.name = 'DevProviderSetupError'
  }
}

/** Loads provider.mjs and api.mjs, turning a missing peer dependency into a clear message. */
async function loadServers() {
  try {
    const [provider, api] = await Promise.all([import('./provider.mjs'), import('./api.mjs')])
    return { ...provider, ...api }
  } catch (err) {
    const missing = /Cannot find (?:package|module) '([^']+)'/.exec(String(err?.message))?.[1]
    if (err?.code === 'ERR_MODULE_NOT_FOUND' && missing && /^(oidc-provider|jose)(\/|$)/.test(missing)) {
      throw new DevProviderSetupError(
        `the dev provider needs oidc-provider and jose, optional peer dependencies of oauth-spa that your app installs for development only:\n\n  ${INSTALL_HINT}\n`,
        { cause: err },
      )
    }
    throw err
  }
}

function absoluteUrl(value, name) {
  let url
  try {
    url = new URL(value)
  } catch {
    throw new DevProviderSetupError(`${name} must be an absolute URL, got ${JSON.stringify(value)}`)
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new DevProviderSetupError(`${name} must be an http(s) URL, got ${JSON.stringify(value)}`)
  return url
}

/**
 * Parses `--users`: `name:password[,name:password…]`. Every user gets `sub` = name and a few
 * profile claims, so an ID token and /userinfo carry something to show.
 */
export function parseUsers(value) {
  const users = []
  for (const part of String(value).split(',').map((s) => s.trim()).filter(Boolean)) {
    const i = part.indexOf(':')
    const username = i === -1 ? '' : part.slice(0, i)
    const password = i === -1 ? '' : part.slice(i + 1)
    if (!/^[A-Za-z0-9._@-]{1,64}$/.test(username) || password.length === 0) {
      throw new DevProviderSetupError(`--users takes name:password pairs separated by commas (names: letters, digits, . _ @ -), got ${JSON.stringify(part)}`)
    }
    users.push({ sub: username, username, password, claims: { name: username, preferred_username: username, email: `${username}@example.test`, email_verified: true } })
  }
  if (users.length === 0) throw new DevProviderSetupError('--users names no user')
  return users
}

/**
 * Starts the provider (and the API when `api` is set).
 *
 * @param {object} options
 * @param {string} options.clientId the public client's id
 * @param {string | string[]} options.redirectUri the app's redirect URI(s)
 * @param {string | string[]} [options.postLogoutRedirectUri] default: the origin of each redirect URI, with `/`
 * @param {string | string[]} [options.origin] origins allowed to call the token endpoint (CORS); default: the redirect URIs' origins
 * @param {{ sub?: string, username: string, password: string, claims?: object }[]} [options.users] default alice / wonderland and bob / builder
 * @param {boolean} [options.dpop=false] the client must use DPoP (sender-constrained tokens)
 * @param {number} [options.port=5174] provider port (0: any free port)
 * @param {boolean} [options.api=false] also start the echo API (validates access tokens; GET /api/me)
 * @param {number} [options.apiPort=5175]
 * @param {boolean} [options.testLogin=false] honour the test-login cookie of `oauth-spa/testing`
 * @param {number} [options.accessTokenTTL=600] seconds
 */
export async function startDevProvider(options = {}) {
  const { clientId, port = DEFAULT_PORTS.provider, apiPort = DEFAULT_PORTS.api, dpop = false, testLogin = false } = options
  if (typeof clientId !== 'string' || clientId.length === 0) throw new DevProviderSetupError('--client-id is required')
  const redirectUris = [options.redirectUri ?? []].flat().map((u) => absoluteUrl(u, '--redirect-uri').href)
  if (redirectUris.length === 0) throw new DevProviderSetupError('--redirect-uri is required (the URL of your app that handles the callback)')
  for (const u of redirectUris) {
    const { protocol, hostname } = new URL(u)
    if (protocol === 'http:' && !LOOPBACK_HOSTS.has(hostname)) throw new DevProviderSetupError(`--redirect-uri: http:// only for 127.0.0.1 or localhost, got ${u}`)
  }
  const origins = options.origin === undefined
    ? [...new Set(redirectUris.map((u) => new URL(u).origin))]
    : [options.origin].flat().map((o) => absoluteUrl(o, '--origin').origin)
  const postLogoutRedirectUris = options.postLogoutRedirectUri === undefined
    ? [...new Set(redirectUris.map((u) => `${new URL(u).origin}/`))]
    : [options.postLogoutRedirectUri].flat().map((u) => absoluteUrl(u, '--post-logout-redirect-uri').href)

  const { startProvider, startApi, DEFAULT_USERS } = await loadServers()
  const users = options.users ?? DEFAULT_USERS
  const provider = await startProvider({
    port,
    clients: [{ clientId, clientName: clientId, redirectUris, postLogoutRedirectUris, origins, dpopBoundAccessTokens: dpop === true }],
    users,
    testLogin: testLogin === true,
    ...(options.accessTokenTTL ? { accessTokenTTL: options.accessTokenTTL } : {}),
  })
  let api
  try {
    if (options.api) {
      api = await startApi({ port: apiPort, issuer: provider.issuer, allowedOrigins: origins })
      provider.addResource({ audience: api.audience })
    }
  } catch (err) {
    await provider.close()
    throw err
  }

  const clientOptions = {
    issuer: provider.issuer,
    clientId,
    redirectUri: redirectUris[0],
    postLogoutRedirectUri: postLogoutRedirectUris[0],
    scope: api ? `${DEFAULT_SCOPE} api:read` : DEFAULT_SCOPE,
    ...(api ? { resource: api.audience, apiOrigins: [api.origin] } : {}),
    ...(dpop ? { dpop: true } : {}),
    // the dev provider is plain http:// on 127.0.0.1: allowed for development only
    allowInsecureRequests: true,
  }
  let closing
  return {
    issuer: provider.issuer,
    port: provider.port,
    clientOptions,
    users: users.map((u) => ({ username: u.username, password: u.password })),
    testLogin: testLogin === true,
    api: api ? { origin: api.origin, audience: api.audience, me: `${api.origin}/api/me`, echo: `${api.origin}/api/echo` } : undefined,
    /** the underlying servers, for tests that count grants or inject faults */
    servers: { provider, api },
    close() {
      closing ??= Promise.allSettled([api?.close(), provider.close()]).then(() => undefined)
      return closing
    },
  }
}
