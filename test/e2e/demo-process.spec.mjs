// `npm run demo` as a user runs it: a child process that prints one URL, serves the playground
// at it, and on Ctrl-C (SIGINT) or SIGTERM closes its servers and exits 0, leaving no process
// behind and every port free. A busy port gives a clear message and exit code 1. With
// `--issuer/--client-id` it serves the same app against another provider and starts none itself.
import { spawn } from 'node:child_process'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { expect, test } from '@playwright/test'

import { startProvider } from '../../dev-provider/provider.mjs'

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const START = path.join(REPO_ROOT, 'demo', 'server', 'start.mjs')
const FREE_PORTS = ['--port', '0', '--provider-port', '0', '--api-port', '0']

/** Spawns a command in its own process group (as a terminal would), collecting its output. */
function run(command, args, { env } = {}) {
  const child = spawn(command, args, {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  })
  const proc = { child, stdout: '', stderr: '' }
  child.stdout.setEncoding('utf8').on('data', (d) => {
    proc.stdout += d
  })
  child.stderr.setEncoding('utf8').on('data', (d) => {
    proc.stderr += d
  })
  proc.exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })))
  proc.waitForOutput = (pattern, timeoutMs = 15_000) =>
    new Promise((resolve, reject) => {
      const check = () => {
        const m = pattern.exec(proc.stdout)
        if (m) {
          done()
          resolve(m)
        }
      }
      const timer = setTimeout(() => {
        done()
        reject(new Error(`no ${pattern} within ${timeoutMs} ms.\nstdout:\n${proc.stdout}\nstderr:\n${proc.stderr}`))
      }, timeoutMs)
      const onExit = ({ code, signal }) => {
        done()
        reject(new Error(`exited (${code ?? signal}) before printing ${pattern}.\nstdout:\n${proc.stdout}\nstderr:\n${proc.stderr}`))
      }
      const done = () => {
        clearTimeout(timer)
        child.stdout.off('data', check)
      }
      child.stdout.on('data', check)
      proc.exited.then(onExit)
      check()
    })
  return proc
}

/** Whether any process of the group `pgid` is still alive. */
function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0)
    return true
  } catch (err) {
    return err.code === 'EPERM'
  }
}

async function waitUntil(predicate, timeoutMs, what) {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await predicate()) return
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`timed out waiting for ${what}`)
}

function withTimeout(promise, ms, what) {
  return Promise.race([promise, new Promise((_, reject) => setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms))])
}

/** Resolves to 'refused' when nothing listens on 127.0.0.1:port, 'open' otherwise. */
function probe(port) {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port })
    socket.once('connect', () => {
      socket.destroy()
      resolve('open')
    })
    socket.once('error', (err) => resolve(err.code === 'ECONNREFUSED' ? 'refused' : err.code))
  })
}

function occupyPort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve(server))
  })
}

async function freePort() {
  const server = await occupyPort()
  const { port } = server.address()
  await new Promise((r) => server.close(r))
  return port
}

const procs = []
test.afterEach(async () => {
  // never leave a demo running, whatever happened in the test
  for (const proc of procs.splice(0)) {
    if (groupAlive(proc.child.pid)) {
      try {
        process.kill(-proc.child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
  }
})

function startDemoProcess(args, options) {
  const proc = run(process.execPath, [START, ...args], options)
  procs.push(proc)
  return proc
}

function parseBanner(stdout) {
  const urls = stdout.match(/https?:\/\/[^\s]+/g) ?? []
  const app = /^Open (http:\/\/127\.0\.0\.1:(\d+)\/)$/m.exec(stdout)
  const provider = /OpenID Provider\s+127\.0\.0\.1 port (\d+)/.exec(stdout)
  const api = /Demo API\s+127\.0\.0\.1 port (\d+)/.exec(stdout)
  return {
    urls,
    url: app?.[1],
    appPort: Number(app?.[2]),
    providerPort: Number(provider?.[1]),
    apiPort: Number(api?.[1]),
  }
}

test.describe('npm run demo, as a process', () => {
  test('prints one URL, serves the playground, and SIGINT stops everything (exit 0, ports freed)', async ({ page }) => {
    const proc = startDemoProcess(FREE_PORTS)
    await proc.waitForOutput(/^Open http:\/\/127\.0\.0\.1:\d+\/$/m)
    const banner = parseBanner(proc.stdout)
    expect(banner.urls, 'exactly one URL is printed').toEqual([banner.url])
    expect(proc.stdout).toContain('alice / wonderland')
    expect(proc.stdout).toContain('bob / builder')
    const ports = [banner.appPort, banner.providerPort, banner.apiPort]
    for (const port of ports) expect(port).toBeGreaterThan(0)
    expect(new Set(ports).size).toBe(3)
    for (const port of ports) expect(await probe(port)).toBe('open')

    await page.goto(banner.url)
    await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
    await expect(page.locator('#status')).toHaveText('unauthenticated')
    await expect(page.locator('#issuer')).toHaveText(`http://127.0.0.1:${banner.providerPort}`)
    await expect(page.locator('#panel-discovery')).toHaveAttribute('data-state', 'done')
    await expect(page.locator('#api-url')).toHaveValue(`http://127.0.0.1:${banner.apiPort}/api/me`)
    // the page keeps a connection open to the app server: closing must not wait for it
    process.kill(proc.child.pid, 'SIGINT')
    const exit = await withTimeout(proc.exited, 10_000, 'exit after SIGINT')
    expect(exit).toEqual({ code: 0, signal: null })
    expect(proc.stdout).toContain('demo: stopped')
    expect(groupAlive(proc.child.pid), 'no process of the demo is left').toBe(false)
    for (const port of ports) expect(await probe(port), `port ${port} is free`).toBe('refused')
    expect(proc.stderr).not.toMatch(/Error|EADDRINUSE|unhandled/i)
  })

  test('SIGTERM stops it too', async () => {
    const proc = startDemoProcess(FREE_PORTS)
    await proc.waitForOutput(/^Open http:\/\/127\.0\.0\.1:\d+\/$/m)
    const { appPort, providerPort, apiPort } = parseBanner(proc.stdout)
    process.kill(proc.child.pid, 'SIGTERM')
    expect(await withTimeout(proc.exited, 10_000, 'exit after SIGTERM')).toEqual({ code: 0, signal: null })
    for (const port of [appPort, providerPort, apiPort]) expect(await probe(port)).toBe('refused')
  })

  test('a busy port: a clear message naming the option, exit code 1, nothing left running', async () => {
    const blocker = await occupyPort()
    const busy = blocker.address().port
    try {
      const app = startDemoProcess(['--port', String(busy), '--provider-port', '0', '--api-port', '0'])
      expect(await withTimeout(app.exited, 15_000, 'exit')).toEqual({ code: 1, signal: null })
      expect(app.stderr).toContain(`port ${busy} is busy; pass --port`)
      expect(app.stdout).not.toContain('Open http')

      // the provider's port: the app server that had started already is closed again
      const provider = startDemoProcess(['--port', '0', '--provider-port', String(busy), '--api-port', '0'])
      expect(await withTimeout(provider.exited, 15_000, 'exit')).toEqual({ code: 1, signal: null })
      expect(provider.stderr).toContain(`port ${busy} is busy; pass --provider-port`)
      expect(groupAlive(provider.child.pid)).toBe(false)

      const api = startDemoProcess(['--port', '0', '--provider-port', '0', '--api-port', String(busy)], { env: {} })
      expect(await withTimeout(api.exited, 15_000, 'exit')).toEqual({ code: 1, signal: null })
      expect(api.stderr).toContain(`port ${busy} is busy; pass --api-port`)

      // the environment variable form
      const fromEnv = startDemoProcess([], { env: { DEMO_PORT: String(busy), DEMO_PROVIDER_PORT: '0', DEMO_API_PORT: '0' } })
      expect(await withTimeout(fromEnv.exited, 15_000, 'exit')).toEqual({ code: 1, signal: null })
      expect(fromEnv.stderr).toContain(`port ${busy} is busy`)
    } finally {
      await new Promise((r) => blocker.close(r))
    }
  })

  test('bad options are refused with exit code 1', async () => {
    const cases = [
      [['--port', 'eighty'], '--port must be a port number'],
      [['--issuer', 'http://auth.example.com', '--client-id', 'x', '--port', '0'], 'http:// only for 127.0.0.1 or localhost'],
      [['--issuer', 'https://auth.example.com', '--port', '0'], '--issuer and --client-id go together'],
      [['--no-such-flag'], 'Unknown option'],
    ]
    for (const [args, message] of cases) {
      const proc = startDemoProcess(args)
      expect(await withTimeout(proc.exited, 10_000, `exit for ${args.join(' ')}`)).toEqual({ code: 1, signal: null })
      expect(proc.stderr).toContain(message)
    }
  })

  test('--issuer/--client-id: the same app against another provider, no local provider or API', async ({ page }) => {
    const appPort = await freePort()
    const appOrigin = `http://127.0.0.1:${appPort}`
    const external = await startProvider({
      clients: [{ clientId: 'external-spa', redirectUris: [`${appOrigin}/callback`], postLogoutRedirectUris: [`${appOrigin}/`], origins: [appOrigin] }],
    })
    try {
      const proc = startDemoProcess(['--issuer', external.issuer, '--client-id', 'external-spa', '--port', String(appPort), '--scope', 'openid profile offline_access'])
      await proc.waitForOutput(/^Open http:\/\/127\.0\.0\.1:\d+\/$/m)
      expect(proc.stdout).toContain(`Open ${appOrigin}/`)
      expect(proc.stdout).toContain(`redirect URI ${appOrigin}/callback`)
      expect(proc.stdout).not.toContain('OpenID Provider   127.0.0.1')
      expect(proc.stdout).not.toContain('Demo API')

      const config = await (await fetch(`${appOrigin}/demo-config.json`)).json()
      expect(config).toMatchObject({
        mode: 'external',
        apiUrl: null,
        users: [],
        client: {
          issuer: external.issuer,
          clientId: 'external-spa',
          redirectUri: `${appOrigin}/callback`,
          postLogoutRedirectUri: `${appOrigin}/`,
          scope: 'openid profile offline_access',
          apiOrigins: [],
          allowInsecureRequests: true,
        },
      })
      expect(config.client.resource).toBeUndefined()

      await page.goto(`${appOrigin}/`)
      await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
      await expect(page.locator('#mode [data-mode="external"]')).toBeVisible()
      await expect(page.locator('#register')).toBeVisible()
      await expect(page.locator('#register-table tr[data-key="redirect URI"] td').first()).toHaveText(`${appOrigin}/callback`)
      await expect(page.locator('#panel-discovery')).toHaveAttribute('data-state', 'done')

      await page.uncheck('#pause-before-redirect')
      await page.click('#login')
      await page.waitForURL((u) => u.href.startsWith(`${external.issuer}/interaction/`))
      await page.fill('input[name=login]', 'alice')
      await page.fill('input[name=password]', 'wonderland')
      await page.click('#submit')
      await page.waitForURL((u) => u.origin === appOrigin && u.pathname === '/')
      await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
      await expect(page.locator('#status')).toHaveText('authenticated')
      await expect(page.locator('#callback-result')).toHaveAttribute('data-ok', 'true')
      expect(external.stats.grants.authorization_code).toBe(1)
      // no API was configured: the button explains instead of sending the token anywhere
      await page.click('#call-api')
      await expect(page.locator('#api-status')).toHaveText('no URL')

      process.kill(proc.child.pid, 'SIGINT')
      expect(await withTimeout(proc.exited, 10_000, 'exit after SIGINT')).toEqual({ code: 0, signal: null })
      expect(await probe(appPort)).toBe('refused')
      // the other provider is not the demo's to stop
      expect(await probe(external.port)).toBe('open')
    } finally {
      await external.close()
    }
  })

  test('npm run demo itself: builds, prints the URL, and Ctrl-C to the process group leaves nothing behind', async ({ page }) => {
    test.setTimeout(180_000)
    const proc = run('npm', ['run', 'demo', '--', ...FREE_PORTS])
    procs.push(proc)
    await proc.waitForOutput(/^Open http:\/\/127\.0\.0\.1:\d+\/$/m, 150_000)
    const banner = parseBanner(proc.stdout)
    await page.goto(banner.url)
    await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
    await expect(page.locator('#status')).toHaveText('unauthenticated')
    // Ctrl-C in a terminal signals the whole foreground process group: npm and node
    process.kill(-proc.child.pid, 'SIGINT')
    const exit = await withTimeout(proc.exited, 15_000, 'npm exit after SIGINT')
    // npm ends itself with the signal it received (or 0, depending on the npm version)
    expect(exit.code === 0 || exit.signal === 'SIGINT', JSON.stringify(exit)).toBe(true)
    await waitUntil(() => !groupAlive(proc.child.pid), 10_000, 'every process of the group to exit')
    expect(proc.stdout).toContain('demo: stopped')
    for (const port of [banner.appPort, banner.providerPort, banner.apiPort]) expect(await probe(port)).toBe('refused')
  })
})
