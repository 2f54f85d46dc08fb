// `npx oauth-spa dev-provider --client-id ID --redirect-uri URL [options]`: the real OpenID
// Provider (oidc-provider) on 127.0.0.1 for developing an app, and optionally a token-validating
// echo API. Prints the options to pass to createOAuthClient, runs until Ctrl-C / SIGTERM.
import { parseArgs } from 'node:util'

const HELP = `Usage: npx oauth-spa dev-provider --client-id ID --redirect-uri URL [options]

Starts a real OpenID Provider (oidc-provider) on 127.0.0.1 for developing your app, and prints
what to pass to createOAuthClient. For development only: keys, users and sessions live in memory.
Needs oidc-provider and jose in your project:  npm i -D oidc-provider jose

Options:
  --client-id ID            the public client's id (required)
  --redirect-uri URL        your app's callback URL (required; repeatable)
  --post-logout-redirect-uri URL   where logout returns (default: <redirect origin>/; repeatable)
  --origin ORIGIN           origin allowed to call the provider (CORS; default: the redirect URI's; repeatable)
  --users a:pw[,b:pw…]      users who can sign in (default: alice:wonderland,bob:builder)
  --dpop                    the client must use DPoP (sender-constrained tokens); prints dpop: true
  --port N                  provider port (default 5174; 0 = any free port)
  --api                     also start an echo API that validates access tokens (GET /api/me)
  --api-port N              its port (default 5175; 0 = any free port)
  --access-token-ttl S      access token lifetime in seconds (default 600)
  --test-login              let end-to-end tests sign a user in without the form
                            (the cookie set by useTestUser() from oauth-spa/testing)
  --json                    print one line of JSON (issuer, clientOptions, api, users) instead of text
  -h, --help                this help
`

function port(value, name) {
  if (value === undefined) return undefined
  const n = Number(value)
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`${name} must be a port number (0-65535), got ${JSON.stringify(value)}`)
  return n
}

function parse(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      'client-id': { type: 'string' },
      'redirect-uri': { type: 'string', multiple: true },
      'post-logout-redirect-uri': { type: 'string', multiple: true },
      origin: { type: 'string', multiple: true },
      users: { type: 'string' },
      dpop: { type: 'boolean' },
      port: { type: 'string' },
      api: { type: 'boolean' },
      'api-port': { type: 'string' },
      'access-token-ttl': { type: 'string' },
      'test-login': { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
    allowPositionals: false,
  })
  const ttl = values['access-token-ttl']
  if (ttl !== undefined && !(Number.isInteger(Number(ttl)) && Number(ttl) > 0)) throw new Error(`--access-token-ttl must be a positive number of seconds, got ${JSON.stringify(ttl)}`)
  return { values, ttl: ttl === undefined ? undefined : Number(ttl) }
}

function banner(dev) {
  const lines = ['', `oauth-spa dev provider (development only)`, '']
  lines.push(`  Issuer       ${dev.issuer}`)
  if (dev.api) lines.push(`  Echo API     ${dev.api.me} (validates the access token, returns its claims)`)
  lines.push(`  Users        ${dev.users.map((u) => `${u.username} / ${u.password}`).join('    ')}`)
  if (dev.testLogin) lines.push('  Test login   on: a browser with the oauth-spa/testing cookie signs in without the form')
  lines.push('', 'Pass this to createOAuthClient:', '')
  lines.push(`  createOAuthClient(${JSON.stringify(dev.clientOptions, null, 2).replace(/\n/g, '\n  ')})`)
  lines.push('', 'Press Ctrl-C to stop.', '')
  return lines.join('\n')
}

/** @param {string[]} argv @returns {Promise<number>} exit code */
export async function run(argv) {
  let parsed
  try {
    parsed = parse(argv)
  } catch (err) {
    process.stderr.write(`oauth-spa dev-provider: ${err.message}\n\n${HELP}`)
    return 1
  }
  const { values, ttl } = parsed
  if (values.help) {
    process.stdout.write(HELP)
    return 0
  }
  // Imported here: the module itself loads without oidc-provider, so --help always works.
  const { startDevProvider, parseUsers, DevProviderSetupError } = await import('../dev-provider/index.mjs')

  let stopping
  let finish
  const finished = new Promise((resolve) => {
    finish = resolve
  })
  let dev
  const stop = (signal) => {
    if (stopping) process.exit(1)
    stopping = signal
    if (!dev) return
    const force = setTimeout(() => finish(1), 5000)
    force.unref()
    dev.close().then(() => {
      clearTimeout(force)
      if (!values.json) process.stdout.write(`${signal}: dev provider stopped\n`)
      finish(0)
    })
  }
  const onSigint = () => stop('SIGINT')
  const onSigterm = () => stop('SIGTERM')
  process.on('SIGINT', onSigint)
  process.on('SIGTERM', onSigterm)
  const detach = () => {
    process.off('SIGINT', onSigint)
    process.off('SIGTERM', onSigterm)
  }

  try {
    dev = await startDevProvider({
      clientId: values['client-id'],
      redirectUri: values['redirect-uri'],
      postLogoutRedirectUri: values['post-logout-redirect-uri'],
      origin: values.origin,
      users: values.users === undefined ? undefined : parseUsers(values.users),
      dpop: values.dpop === true,
      port: port(values.port, '--port'),
      api: values.api === true,
      apiPort: port(values['api-port'], '--api-port'),
      accessTokenTTL: ttl,
      testLogin: values['test-login'] === true,
    })
  } catch (err) {
    detach()
    if (err instanceof DevProviderSetupError) process.stderr.write(`oauth-spa dev-provider: ${err.message}\n`)
    else if (err?.code === 'EADDRINUSE') process.stderr.write(`oauth-spa dev-provider: a port is busy (${err.message}); pass --port / --api-port <another port>, or 0 for any free port\n`)
    else process.stderr.write(`oauth-spa dev-provider: ${err?.message ?? err}\n`)
    return 1
  }
  if (stopping) {
    await dev.close()
    detach()
    return 0
  }
  if (values.json) {
    process.stdout.write(`${JSON.stringify({ issuer: dev.issuer, clientOptions: dev.clientOptions, api: dev.api ?? null, users: dev.users, testLogin: dev.testLogin })}\n`)
  } else {
    process.stdout.write(banner(dev))
  }
  const code = await finished
  detach()
  return code
}
