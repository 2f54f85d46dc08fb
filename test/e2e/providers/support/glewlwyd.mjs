// Starts a real Glewlwyd (Debian package `glewlwyd`, 2.7) on 127.0.0.1 and a free port, configured
// only from outside, as its administrator would: a SQLite database made from the package's own
// init script, a configuration file and a copy of its login web app's settings in a temp
// directory, then the administration API (signed in as the package's default admin) to add the
// OpenID Connect plugin, the scopes, a user and the public client of the SPA.
//
//   const op = await startGlewlwyd({ appOrigin, redirectUris, postLogoutRedirectUris, plugin: { … } })
//   op.issuer   → `${origin}/api/oidc`
//   op.close()  → stops the process, removes the temp directory
//
// Nothing here reaches the network beyond 127.0.0.1. Token values are never printed.
import { spawn, spawnSync } from 'node:child_process'
import { generateKeyPairSync, randomUUID } from 'node:crypto'
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { gunzipSync } from 'node:zlib'

import { freePort } from '../../support/free-port.mjs'
import { startProviderStack } from './stack.mjs'

export const GLEWLWYD_BIN = '/usr/bin/glewlwyd'
const SHARE = '/usr/share/glewlwyd/webapp'
const INIT_SQL = '/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz'
const WEBAPP_CONFIG = '/etc/glewlwyd/config-2.7.json/config.json'
const LIB = '/usr/lib/glewlwyd'
/** The package's init script creates this administrator (GETTING_STARTED: "admin"/"password"). */
const ADMIN = { username: 'admin', password: 'password' }

export const GLEWLWYD_USERS = [
  { username: 'alice', password: 'wonderland', name: 'Alice Liddell', email: 'alice@example.com' },
  { username: 'bob', password: 'builder-2', name: 'Bob Builder', email: 'bob@example.com' },
]

/** Whether the Debian package is installed (`.ci/run` installs it when missing). */
export function glewlwydInstalled() {
  return existsSync(GLEWLWYD_BIN) && existsSync(INIT_SQL) && existsSync(`${LIB}/plugin/libprotocol_oidc.so`)
}

function signingJwks() {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 })
  const jwk = privateKey.export({ format: 'jwk' })
  return { keys: [{ ...jwk, kid: 'e2e-rs256', alg: 'RS256', use: 'sig' }] }
}

function configFile({ port, dir, origin, logFile }) {
  const mime = [
    ['.html', 'text/html'], ['.css', 'text/css'], ['.js', 'application/javascript'], ['.json', 'application/json'],
    ['.png', 'image/png'], ['.jpg', 'image/jpeg'], ['.svg', 'image/svg+xml'], ['.ttf', 'font/ttf'], ['.woff', 'font/woff'],
    ['.woff2', 'font/woff2'], ['.ico', 'image/x-icon'], ['.map', 'application/octet-stream'],
  ]
  return `port=${port}
bind_address="127.0.0.1"
external_url="${origin}"
login_url="login.html"
api_prefix="api"
static_files_path="${dir}/webapp/"
allow_origin="*"
allow_methods="GET, POST, PUT, DELETE, OPTIONS"
allow_headers="Origin, X-Requested-With, Content-Type, Accept, Bearer, Authorization, DPoP"
expose_headers="Content-Encoding, Authorization, WWW-Authenticate, DPoP-Nonce"
log_mode="file"
log_level="INFO"
log_file="${logFile}"
cookie_secure=0
cookie_same_site="empty"
session_expiration=3600
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie"
profile_session_authentication="cookie"
allow_multiple_user_per_session=true
login_api_enabled=true
add_x_frame_option_header_deny=true
max_post_size=16778240
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="${LIB}/user"
client_module_path="${LIB}/client"
user_auth_scheme_module_path="${LIB}/scheme"
plugin_module_path="${LIB}/plugin"
use_secure_connection=false
secure_connection_key_file="${dir}/none.key"
secure_connection_pem_file="${dir}/none.pem"
hash_algorithm="SHA512"
database =
{
  type = "sqlite3"
  path = "${dir}/glewlwyd.db"
};
static_files_mime_types =
(
${mime.map(([extension, type]) => `  { extension = "${extension}"\n    mime_type = "${type}" }`).join(',\n')}
)
`
}

/** The OIDC plugin's settings (names as the admin web app writes them), overridable per test. */
function pluginParameters(origin, overrides) {
  const jwks = signingJwks()
  return {
    iss: `${origin}/api/oidc`,
    'jwt-type': 'rsa',
    'jwt-key-size': '256',
    'jwks-private': JSON.stringify(jwks),
    'default-kid': 'e2e-rs256',
    'jwks-show': true,
    'jwks-uri': '',
    'jwks-public': '',
    'client-sign_kid-parameter': '',
    key: '',
    cert: '',
    'access-token-duration': 3600,
    'refresh-token-duration': 1209600,
    'code-duration': 600,
    'refresh-token-rolling': true,
    'refresh-token-one-use': 'always',
    'client-refresh-token-one-use-parameter': 'refresh-token-one-use',
    'allow-non-oidc': false,
    'auth-type-code-enabled': true,
    'auth-type-code-revoke-replayed': true,
    'auth-type-token-enabled': false,
    'auth-type-id-token-enabled': false,
    'auth-type-none-enabled': false,
    'auth-type-password-enabled': false,
    'auth-type-client-enabled': false,
    'auth-type-device-enabled': false,
    'auth-type-refresh-enabled': true,
    scope: [],
    'additional-parameters': [],
    claims: [],
    'service-documentation': '',
    'op-policy-uri': '',
    'op-tos-uri': '',
    'jwks-x5c': [],
    'request-parameter-allow': false,
    'request-uri-allow-https-non-secure': false,
    'request-parameter-allow-encrypted': false,
    'request-parameter-ietf-strict': false,
    'secret-type': 'public',
    'address-claim': { type: 'no', formatted: '', street_address: '', locality: '', region: '', postal_code: '', country: '', mandatory: false },
    'name-claim': 'on-demand',
    'name-claim-scope': ['profile'],
    'email-claim': 'on-demand',
    'email-claim-scope': ['email'],
    'scope-claim': 'no',
    'scope-claim-scope': [],
    'allowed-scope': ['openid', 'profile', 'email'],
    'pkce-allowed': true,
    'pkce-method-plain-allowed': false,
    'pkce-required': false,
    'pkce-required-public-client': true,
    'pkce-scopes': [],
    'introspection-revocation-allowed': true,
    'introspection-revocation-auth-scope': [],
    'introspection-revocation-allow-target-client': true,
    'register-client-allowed': false,
    'session-management-allowed': true,
    'session-cookie-name': 'GLEWLWYD2_OIDC_SID',
    'session-cookie-expiration': 2419200,
    // true: its login app lists the session's front-channel clients before ending it, and fails
    // (a 400, then a script error) when the list is disabled.
    'front-channel-logout-allowed': true,
    'back-channel-logout-allowed': false,
    'client-pubkey-parameter': '',
    'client-jwks-parameter': 'jwks',
    'client-jwks_uri-parameter': 'jwks_uri',
    'request-maximum-exp': 3600,
    'encrypt-out-token-allow': false,
    'oauth-dpop-allowed': true,
    'oauth-dpop-iat-duration': 60,
    'oauth-dpop-iat-gap-duration': 0,
    'oauth-dpop-dpop_bound_access_tokens-property': 'dpop_bound_access_tokens',
    'oauth-dpop-nonce-mandatory': false,
    'oauth-dpop-nonce-counter': 10,
    'resource-allowed': false,
    'resource-scope': {},
    'resource-client-property': '',
    'resource-scope-and-client-property': false,
    'oauth-rar-allowed': false,
    'oauth-par-allowed': true,
    'oauth-par-duration': 90,
    'oauth-par-required': false,
    'oauth-par-request_uri-prefix': 'urn:ietf:params:oauth:request_uri:',
    'oauth-ciba-allowed': false,
    'oauth-fapi-allow-restrict-alg': false,
    'oauth-fapi-ciba-confidential-client': false,
    'oauth-fapi-restrict-alg': false,
    'oauth-fapi-allow-jarm': false,
    ...overrides,
  }
}

/** A cookie-keeping JSON client for Glewlwyd's administration API. */
function adminClient(origin) {
  let cookie = ''
  return async function call(method, pathname, body) {
    const res = await fetch(`${origin}/api${pathname}`, {
      method,
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...(cookie ? { cookie } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
      redirect: 'manual',
    })
    const set = res.headers.getSetCookie?.() ?? []
    for (const c of set) {
      const pair = c.split(';')[0]
      if (pair.endsWith('=')) continue
      cookie = pair
    }
    const text = await res.text()
    if (!res.ok) throw new Error(`glewlwyd admin ${method} ${pathname}: HTTP ${res.status} ${text.slice(0, 300)}`)
    return text ? JSON.parse(text) : undefined
  }
}

/**
 * Lets clients of the package's client back end ("database") hold `post_logout_redirect_uris`.
 *
 * Glewlwyd 2.7.5's OIDC plugin returns the browser from end_session only to a URI found in the
 * client's `post_logout_redirect_uris` *array* (src/plugin/protocol_oidc.c, callback_oidc_end_session
 * and get_session_front_client_list: `json_array_has_string(…, "post_logout_redirect_uris")`). The
 * package's init script no longer declares that property for the client back end (upstream commit
 * 533bd7b9 dropped it from the back end's `data-format`, 68cfe56e added a single-valued
 * `post_logout_redirect_uri`, which the plugin never reads), and the back end silently drops every
 * property missing from `data-format` (src/client/database.c, save_client_properties). So with the
 * default set-up the post-logout redirect is unreachable. Declaring the property as multi-valued is
 * an administrator's setting (admin app: Parameters → Clients data sources → database), applied
 * here through the same administration API; the instance is restarted to read it.
 */
async function allowPostLogoutRedirectUris(admin) {
  const instance = await admin('GET', '/mod/client/database')
  const parameters = {
    ...instance.parameters,
    'data-format': { ...instance.parameters['data-format'], post_logout_redirect_uris: { multiple: true, read: true, write: true } },
  }
  await admin('PUT', '/mod/client/database', { ...instance, parameters })
  await admin('PUT', '/mod/client/database/disable')
  await admin('PUT', '/mod/client/database/enable')
}

async function waitUp(origin, child, log) {
  const deadline = Date.now() + 20_000
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`glewlwyd exited with ${child.exitCode}: ${log()}`)
    try {
      const res = await fetch(`${origin}/config/`)
      if (res.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`glewlwyd did not start: ${log()}`)
}

/**
 * @param {object} options
 * @param {string[]} options.redirectUris
 * @param {string[]} [options.postLogoutRedirectUris]
 * @param {object} [options.plugin] overrides of the OIDC plugin's settings
 * @param {string} [options.clientId]
 */
export async function startGlewlwyd(options) {
  if (!glewlwydInstalled()) throw new Error('glewlwyd is not installed: apt-get install glewlwyd (.ci/run does it)')
  const dir = mkdtempSync(path.join(os.tmpdir(), 'oauth-spa-glewlwyd-'))
  let child
  const stop = async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))])
      if (child.exitCode === null) child.kill('SIGKILL')
    }
    // The process may still be flushing its log: a failed removal of a temp dir is not an error.
    try {
      rmSync(dir, { recursive: true, force: true, maxRetries: 3 })
    } catch {
      // left in the OS temp dir
    }
  }
  try {
    const sql = gunzipSync(readFileSync(INIT_SQL)).toString('utf8')
    const init = spawnSync('sqlite3', [path.join(dir, 'glewlwyd.db')], { input: sql, encoding: 'utf8' })
    if (init.status !== 0) throw new Error(`sqlite3 could not create the database: ${init.stderr}`)

    // The login web app: a copy of the package's files (Glewlwyd's static file server does not
    // follow symbolic links), with settings (config.json) of our own.
    const webapp = path.join(dir, 'webapp')
    for (const entry of readdirSync(SHARE)) {
      if (entry !== 'config.json') cpSync(path.join(SHARE, entry), path.join(webapp, entry), { recursive: true, dereference: true })
    }
    const webConfig = existsSync(WEBAPP_CONFIG) ? JSON.parse(readFileSync(WEBAPP_CONFIG, 'utf8')) : {}
    writeFileSync(
      path.join(webapp, 'config.json'),
      JSON.stringify({ ...webConfig, GlewlwydUrl: './', ProfileUrl: 'profile.html', AdminUrl: 'index.html', LoginUrl: 'login.html', lang: ['en'], register: [], 'register-complete': [] }),
    )

    const port = await freePort()
    const origin = `http://127.0.0.1:${port}`
    const logFile = path.join(dir, 'glewlwyd.log')
    writeFileSync(path.join(dir, 'glewlwyd.conf'), configFile({ port, dir, origin, logFile }))
    child = spawn(GLEWLWYD_BIN, [`--config-file=${path.join(dir, 'glewlwyd.conf')}`], { stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d) => (output = (output + d).slice(-4000)))
    child.stderr.on('data', (d) => (output = (output + d).slice(-4000)))
    const log = () => {
      let file = ''
      try {
        file = readFileSync(logFile, 'utf8').slice(-4000)
      } catch {
        // no log yet
      }
      return `${output}\n${file}`
    }
    await waitUp(origin, child, log)

    const admin = adminClient(origin)
    await admin('POST', '/auth/', ADMIN)
    const plugin = pluginParameters(origin, options.plugin)
    await admin('POST', '/mod/plugin/', { module: 'oidc', name: 'oidc', display_name: 'OpenID Connect', enabled: true, parameters: plugin })
    for (const [name, display] of [['openid', 'Open ID'], ['profile', 'Profile'], ['email', 'E-mail']]) {
      const scope = { name, display_name: display, description: display, password_required: true, password_max_age: 0, scheme: {} }
      if (name === 'openid') await admin('PUT', `/scope/${name}`, scope)
      else await admin('POST', '/scope/', scope)
    }
    for (const user of GLEWLWYD_USERS) {
      await admin('POST', '/user/', { ...user, enabled: true, scope: ['openid', 'profile', 'email'] })
    }
    await allowPostLogoutRedirectUris(admin)
    const clientId = options.clientId ?? 'spa-e2e'
    await admin('POST', '/client/', {
      client_id: clientId,
      name: 'oauth-spa e2e',
      description: 'public SPA client',
      confidential: false,
      enabled: true,
      redirect_uri: options.redirectUris,
      authorization_type: ['code', 'refresh_token'],
      token_endpoint_auth_method: ['none'],
      // Read by the OIDC plugin's end_session as an array (see allowPostLogoutRedirectUris).
      post_logout_redirect_uris: options.postLogoutRedirectUris ?? [],
      scope: ['openid', 'profile', 'email'],
    })
    const issuer = `${origin}/api/oidc`
    return {
      origin,
      issuer,
      clientId,
      users: GLEWLWYD_USERS,
      id: randomUUID(),
      log,
      /** Glewlwyd's log lines so far with `Event` (token issuance, grants, logins), in order. */
      events: () => (existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').filter((l) => l.includes(' INFO: Event')) : []),
      admin,
      close: stop,
    }
  } catch (e) {
    await stop()
    throw e
  }
}

/** Glewlwyd's access-token audience without resource indicators: the granted scope string. */
export const GLEWLWYD_SCOPE = 'openid profile email'

/**
 * The whole stack of a Glewlwyd test, without any test runner: the e2e test app, a fresh
 * Glewlwyd whose client may return to the app (redirect and post-logout URIs), and the API that
 * validates Glewlwyd's JWT access tokens through its JWKS (audience: the scope string, see
 * GLEWLWYD_SCOPE). `stack.clientId` is the client's id; `stack.close()` stops all three.
 * @param {{ plugin?: object }} [options] overrides of the OIDC plugin's settings
 */
export async function startGlewlwydStack({ plugin } = {}) {
  const stack = await startProviderStack({
    startOp: async (app) => {
      const op = await startGlewlwyd({ redirectUris: [app.redirectUri], postLogoutRedirectUris: [app.postLogoutRedirectUri], plugin })
      return { ...op, jwksUri: `${op.issuer}/jwks` }
    },
    api: () => ({ audience: GLEWLWYD_SCOPE }),
    // Glewlwyd has no offline_access scope: it issues refresh tokens to the code flow anyway.
    appConfig: { scope: GLEWLWYD_SCOPE },
  })
  stack.clientId = stack.provider.clientId
  return stack
}
