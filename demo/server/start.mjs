#!/usr/bin/env node
// `npm run demo`: the oauth-spa playground.
//
// Embedded mode (default) starts, on 127.0.0.1 only:
//   - the local OpenID Provider (dev-provider/provider.mjs, the configuration the e2e suite uses),
//   - the demo API (dev-provider/api.mjs: validates access tokens, GET /api/me returns the claims),
//   - a static server for demo/app that serves the SDK build from /dist/ and the app's client
//     configuration from /demo-config.json,
// prints one URL to open and stops everything on Ctrl-C (SIGINT) or SIGTERM.
//
// External mode (`--issuer URL --client-id ID`) serves the same app against a real provider:
// no local provider and no local API, the app's configuration just points at the issuer.
//
// Programmatic use (the e2e tests): `const demo = await startDemo({ port: 0, ... }); await demo.close()`.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'

import { startApi } from '../../dev-provider/api.mjs'
import { DEFAULT_USERS, startProvider } from '../../dev-provider/provider.mjs'
import { startStatic } from './static.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const REPO_ROOT = path.resolve(HERE, '..', '..')
export const APP_ROOT = path.resolve(HERE, '..', 'app')
export const DIST_DIR = path.join(REPO_ROOT, 'dist')
export const STANDALONE_BUNDLE = 'oauth-spa.standalone.min.js'

export const DEFAULT_PORTS = Object.freeze({ app: 5173, provider: 5174, api: 5175 })
export const DEMO_CLIENT_ID = 'spa-demo'
/** The embedded API's scopes are requested too, so the access token's `scope` shows something. */
export const EMBEDDED_SCOPE = 'openid profile email offline_access api:read'
const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]'])

/** A port that could not be bound; `flag` is the command-line option that moves it. */
export class PortBusyError extends Error {
  constructor(port, flag, cause) {
    super(`port ${port} is busy; pass ${flag} <another port> (or ${flag} 0 for any free port)`, { cause })
    this.name = 'PortBusyError'
    this.code = 'EADDRINUSE'
    this.port = port
    this.flag = flag
  }
}

/** A usage or configuration mistake: printed as is, exit code 1. */
export class DemoConfigError extends Error {
  constructor(message) {
    super(message)
    this.name = 'DemoConfigError'
  }
}

async function bind(flag, port, start) {
  try {
    return await start()
  } catch (err) {
    if (err?.code === 'EADDRINUSE') throw new PortBusyError(port, flag, err)
    if (err?.code === 'EACCES') throw new DemoConfigError(`port ${port} cannot be used (permission denied); pass ${flag} <another port>`)
    throw err
  }
}

function originOf(value, name) {
  try {
    return new URL(value).origin
  } catch {
    throw new DemoConfigError(`${name} must be an absolute URL, got ${JSON.stringify(value)}`)
  }
}

/**
 * Reads the external provider's metadata (for the page's connect-src: the token endpoint is not
 * always on the issuer's origin). Best effort: without it, only the issuer's origin is allowed.
 */
async function discoverEndpointOrigins(issuer, timeoutMs = 5000) {
  const base = issuer.endsWith('/') ? issuer.slice(0, -1) : issuer
  for (const url of [`${base}/.well-known/openid-configuration`, `${new URL(issuer).origin}/.well-known/oauth-authorization-server${new URL(issuer).pathname.replace(/\/$/, '')}`]) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), headers: { accept: 'application/json' } })
      if (!res.ok) continue
      const metadata = await res.json()
      const origins = []
      for (const key of ['authorization_endpoint', 'token_endpoint', 'revocation_endpoint', 'end_session_endpoint', 'userinfo_endpoint', 'jwks_uri', 'pushed_authorization_request_endpoint']) {
        if (typeof metadata[key] === 'string') {
          try {
            origins.push(new URL(metadata[key]).origin)
          } catch {
            // ignore a malformed endpoint; the SDK will report it
          }
        }
      }
      return { ok: true, origins }
    } catch {
      // try the next well-known location
    }
  }
  return { ok: false, origins: [] }
}

function toPort(value, name) {
  if (value === undefined || value === null || value === '') return undefined
  const n = typeof value === 'number' ? value : Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new DemoConfigError(`${name} must be a port number (0-65535), got ${JSON.stringify(value)}`)
  return n
}

/**
 * Starts the demo.
 *
 * @param {object} [options]
 * @param {number} [options.port=5173] the app's port (0: any free port)
 * @param {number} [options.providerPort=5174] embedded provider's port
 * @param {number} [options.apiPort=5175] embedded API's port
 * @param {string} [options.hostname='127.0.0.1'] host name used in the app's URLs (`localhost` or
 *   `127.0.0.1`); the servers always listen on 127.0.0.1 only
 * @param {string} [options.issuer] external provider: its issuer identifier (no local provider then)
 * @param {string} [options.clientId] external provider: the public client's id
 * @param {string} [options.scope]
 * @param {string | string[]} [options.resource]
 * @param {string | string[]} [options.apiOrigin] origin(s) auth.fetch may send tokens to (external mode)
 * @param {string} [options.apiUrl] what the "Call the API" button requests (default: <api origin>/api/me)
 * @param {number} [options.accessTokenTTL] embedded provider: access token lifetime in seconds
 * @param {string} [options.distDir] where the SDK build is (default <repo>/dist)
 * @returns {Promise<{ url: string, appOrigin: string, mode: 'embedded' | 'external', issuer: string,
 *   clientId: string, users: { username: string, password: string }[], provider?: object, api?: object,
 *   app: object, clientConfig: () => object, close: () => Promise<void> }>}
 */
export async function startDemo(options = {}) {
  const external = options.issuer !== undefined || options.clientId !== undefined
  if (external && (!options.issuer || !options.clientId)) {
    throw new DemoConfigError('--issuer and --client-id go together: pass both to use an external provider')
  }
  const hostname = options.hostname ?? '127.0.0.1'
  if (!LOOPBACK_HOSTS.has(hostname)) throw new DemoConfigError(`--hostname must be 127.0.0.1 or localhost, got ${JSON.stringify(hostname)}`)
  const appPort = toPort(options.port, '--port') ?? DEFAULT_PORTS.app
  const providerPort = toPort(options.providerPort, '--provider-port') ?? DEFAULT_PORTS.provider
  const apiPort = toPort(options.apiPort, '--api-port') ?? DEFAULT_PORTS.api
  const distDir = options.distDir ?? DIST_DIR
  if (!existsSync(path.join(distDir, STANDALONE_BUNDLE))) {
    throw new DemoConfigError(`${path.relative(process.cwd(), path.join(distDir, STANDALONE_BUNDLE)) || STANDALONE_BUNDLE} is missing: run \`npm run build\` first (\`npm run demo\` builds it for you)`)
  }

  let externalIssuer
  let externalApiOrigins = []
  let discovery = { ok: false, origins: [] }
  if (external) {
    externalIssuer = String(options.issuer)
    let issuerUrl
    try {
      issuerUrl = new URL(externalIssuer)
    } catch {
      throw new DemoConfigError(`--issuer must be an absolute URL, got ${JSON.stringify(externalIssuer)}`)
    }
    if (issuerUrl.protocol !== 'https:' && !(issuerUrl.protocol === 'http:' && LOOPBACK_HOSTS.has(issuerUrl.hostname))) {
      throw new DemoConfigError(`--issuer must be an https:// URL (http:// only for 127.0.0.1 or localhost), got ${JSON.stringify(externalIssuer)}`)
    }
    externalApiOrigins = [options.apiOrigin ?? []].flat().filter(Boolean).map((o) => originOf(o, '--api-origin'))
    discovery = await discoverEndpointOrigins(externalIssuer)
  }

  const started = []
  const stack = { mode: external ? 'external' : 'embedded' }
  try {
    stack.app = await bind('--port', appPort, () =>
      startStatic({
        port: appPort,
        root: APP_ROOT,
        distDir,
        routes: { '/demo-config.json': () => stack.clientConfig() },
        csp: {
          connectSrc: () => [
            stack.issuer,
            ...(stack.api ? [stack.api.origin] : []),
            ...externalApiOrigins,
            ...discovery.origins,
          ],
        },
      }),
    )
    started.push(stack.app)
    const appOrigin = `http://${hostname}:${stack.app.port}`
    stack.appOrigin = appOrigin
    stack.url = `${appOrigin}/`

    if (external) {
      stack.issuer = externalIssuer
      stack.clientId = String(options.clientId)
      stack.users = []
    } else {
      stack.provider = await bind('--provider-port', providerPort, () =>
        startProvider({
          port: providerPort,
          clients: [{
            clientId: DEMO_CLIENT_ID,
            clientName: 'oauth-spa playground',
            redirectUris: [`${appOrigin}/callback`],
            postLogoutRedirectUris: [`${appOrigin}/`],
            origins: [appOrigin],
          }],
          ...(options.accessTokenTTL ? { accessTokenTTL: options.accessTokenTTL } : {}),
        }),
      )
      started.push(stack.provider)
      stack.issuer = stack.provider.issuer
      stack.clientId = DEMO_CLIENT_ID
      stack.users = (stack.provider.users ?? DEFAULT_USERS).map((u) => ({ username: u.username, password: u.password, name: u.claims?.name }))

      stack.api = await bind('--api-port', apiPort, () => startApi({ port: apiPort, issuer: stack.issuer, allowedOrigins: [appOrigin] }))
      started.push(stack.api)
      stack.provider.addResource({ audience: stack.api.audience })
    }
  } catch (err) {
    await Promise.allSettled(started.map((s) => s.close()))
    throw err
  }

  const resource = external ? options.resource : (options.resource ?? stack.api.audience)
  const apiOrigins = external ? externalApiOrigins : [stack.api.origin]
  const apiUrl = options.apiUrl ?? (external ? (apiOrigins[0] ? `${apiOrigins[0]}/api/me` : undefined) : `${stack.api.origin}/api/me`)
  const issuerHost = new URL(stack.issuer).hostname
  const client = {
    issuer: stack.issuer,
    clientId: stack.clientId,
    redirectUri: `${stack.appOrigin}/callback`,
    postLogoutRedirectUri: `${stack.appOrigin}/`,
    scope: options.scope ?? (external ? undefined : EMBEDDED_SCOPE),
    ...(resource === undefined || (Array.isArray(resource) && resource.length === 0) ? {} : { resource }),
    apiOrigins,
    // only for a provider on this machine: never for a remote http:// issuer
    allowInsecureRequests: new URL(stack.issuer).protocol === 'http:' && LOOPBACK_HOSTS.has(issuerHost),
  }
  if (client.scope === undefined) delete client.scope

  stack.clientConfig = () => ({
    mode: stack.mode,
    client,
    apiUrl: apiUrl ?? null,
    users: stack.users.map(({ username, password }) => ({ username, password })),
    register: external
      ? {
          redirectUri: client.redirectUri,
          postLogoutRedirectUri: client.postLogoutRedirectUri,
          webOrigin: stack.appOrigin,
          discovery: discovery.ok,
        }
      : undefined,
  })
  stack.discoveryReachable = discovery.ok

  let closing
  stack.close = () => {
    closing ??= Promise.allSettled([stack.api, stack.provider, stack.app].filter(Boolean).map((s) => s.close())).then(() => undefined)
    return closing
  }
  return stack
}

const HELP = `Usage: npm run demo [-- options]        (or: node demo/server/start.mjs [options])

Runs the oauth-spa playground on 127.0.0.1: a local OpenID Provider, a demo API and the demo app.

Options:
  --port N             the app's port (default ${DEFAULT_PORTS.app}; env DEMO_PORT; 0 = any free port)
  --provider-port N    the local provider's port (default ${DEFAULT_PORTS.provider}; env DEMO_PROVIDER_PORT)
  --api-port N         the demo API's port (default ${DEFAULT_PORTS.api}; env DEMO_API_PORT)
  --hostname H         127.0.0.1 (default) or localhost: the host name in the app's URLs
  --access-token-ttl S local provider: access token lifetime in seconds (default 600)

Against a real provider instead of the local one (see demo/README.md for what to register):
  --issuer URL         the provider's issuer identifier
  --client-id ID       the public client's id registered there
  --scope "…"          scopes to request (default: openid profile email offline_access)
  --resource URL       RFC 8707 resource indicator (repeatable)
  --api-origin ORIGIN  an API origin auth.fetch may send the token to (repeatable)
  --api-url URL        what the "Call the API" button requests (default <api-origin>/api/me)
  -h, --help           this help
`

function parseCommandLine(argv, env) {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      'provider-port': { type: 'string' },
      'api-port': { type: 'string' },
      hostname: { type: 'string' },
      'access-token-ttl': { type: 'string' },
      issuer: { type: 'string' },
      'client-id': { type: 'string' },
      scope: { type: 'string' },
      resource: { type: 'string', multiple: true },
      'api-origin': { type: 'string', multiple: true },
      'api-url': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  })
  const ttl = values['access-token-ttl']
  if (ttl !== undefined && !(Number.isInteger(Number(ttl)) && Number(ttl) > 0)) throw new DemoConfigError(`--access-token-ttl must be a positive number of seconds, got ${JSON.stringify(ttl)}`)
  return {
    help: values.help === true,
    port: toPort(values.port ?? env.DEMO_PORT, values.port !== undefined ? '--port' : 'DEMO_PORT'),
    providerPort: toPort(values['provider-port'] ?? env.DEMO_PROVIDER_PORT, values['provider-port'] !== undefined ? '--provider-port' : 'DEMO_PROVIDER_PORT'),
    apiPort: toPort(values['api-port'] ?? env.DEMO_API_PORT, values['api-port'] !== undefined ? '--api-port' : 'DEMO_API_PORT'),
    hostname: values.hostname,
    accessTokenTTL: ttl === undefined ? undefined : Number(ttl),
    issuer: values.issuer,
    clientId: values['client-id'],
    scope: values.scope,
    resource: values.resource?.length === 1 ? values.resource[0] : values.resource,
    apiOrigin: values['api-origin'],
    apiUrl: values['api-url'],
  }
}

function banner(demo) {
  const lines = ['', 'oauth-spa playground', '']
  if (demo.mode === 'embedded') {
    lines.push(`  OpenID Provider   127.0.0.1 port ${demo.provider.port} (oidc-provider, client "${demo.clientId}")`)
    lines.push(`  Demo API          127.0.0.1 port ${demo.api.port} (GET /api/me returns your token's claims)`)
    lines.push('  Demo users        ' + demo.users.map((u) => `${u.username} / ${u.password}`).join('    '))
  } else {
    lines.push(`  Provider          ${demo.issuer} (client "${demo.clientId}")`)
    if (!demo.discoveryReachable) lines.push('  warning           its discovery document could not be read from here; the browser will try')
    lines.push(`  Register there    redirect URI ${demo.appOrigin}/callback, post-logout redirect ${demo.appOrigin}/,`)
    lines.push(`                    allowed web origin (CORS) ${demo.appOrigin}; public client, PKCE, refresh token rotation`)
  }
  lines.push('', `Open ${demo.url}`, '', 'Press Ctrl-C to stop.', '')
  return lines.join('\n')
}

export async function main(argv = process.argv.slice(2), env = process.env) {
  let options
  try {
    options = parseCommandLine(argv, env)
  } catch (err) {
    process.stderr.write(`demo: ${err.message}\n\n${HELP}`)
    return 1
  }
  if (options.help) {
    process.stdout.write(HELP)
    return 0
  }

  // Handlers first: a Ctrl-C during start-up, or right after the URL is printed, must still
  // close the servers and exit 0 rather than kill the process with the default action.
  let demo
  let stopping
  let finish
  const finished = new Promise((resolve) => {
    finish = resolve
  })
  const stop = (signal) => {
    if (stopping) {
      // a second Ctrl-C: do not wait any longer
      process.stderr.write(`demo: ${signal} again, exiting now\n`)
      process.exit(1)
    }
    stopping = signal
    if (!demo) return // still starting: main() closes what started, then finishes
    process.stdout.write(`\n${signal}: stopping the demo…\n`)
    const force = setTimeout(() => {
      process.stderr.write('demo: servers did not close within 5 s, exiting anyway\n')
      finish(1)
    }, 5000)
    force.unref()
    demo.close().then(() => {
      clearTimeout(force)
      process.stdout.write('demo: stopped\n')
      finish(0)
    })
  }
  const onSigint = () => stop('SIGINT')
  const onSigterm = () => stop('SIGTERM')
  process.on('SIGINT', onSigint)
  process.on('SIGTERM', onSigterm)

  try {
    demo = await startDemo(options)
  } catch (err) {
    if (err instanceof PortBusyError || err instanceof DemoConfigError) process.stderr.write(`demo: ${err.message}\n`)
    else process.stderr.write(`demo: could not start: ${err?.stack ?? err}\n`)
    return 1
  }
  if (stopping) {
    await demo.close()
    process.stdout.write(`${stopping} during start-up: demo stopped\n`)
    return 0
  }
  process.stdout.write(banner(demo))
  const code = await finished
  process.off('SIGINT', onSigint)
  process.off('SIGTERM', onSigterm)
  return code
}

const invokedDirectly = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href
if (invokedDirectly) {
  main().then((code) => process.exit(code))
}
