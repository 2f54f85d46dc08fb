#!/usr/bin/env node
// Issue 12 §3 / issue 17 §2, proved as a new user would do it: packs this package, creates a
// fresh Vite + React + TypeScript app in a temporary folder OUTSIDE the repository, installs the
// tarball there (the README's Install path), type-checks it with strict tsc, builds it for
// production, serves dist/ on 127.0.0.1 and signs in through it in real Chromium against
// `npx oauth-spa dev-provider` run from the installed tarball: once through the provider's form,
// once with oauth-spa/testing's useTestUser (no form). A second, bare app checks that the SDK's
// install pulls neither oidc-provider nor an install script, and that the CLI then says what to
// install. Needs dist/ (npm run build). Prints "fresh-app: N passed, N failed"; exit 1 on failure.
//
//   node test/package/fresh-app.mjs [--keep]     --keep: leave the temporary folder for a look
import { execFile, execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

import { APP_FILES, appPackageJson } from './app-files.mjs'
import { launchChromium } from '../e2e/browser.mjs'
import { freePort, packTarball, serveDist, startCli } from './support.mjs'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const keep = process.argv.includes('--keep')
const repoVersion = (name) => JSON.parse(readFileSync(path.join(REPO, 'node_modules', name, 'package.json'), 'utf8')).version

// The app's dependencies: React and TypeScript as the repo pins them (so the npm cache has them),
// Vite 8 with @vitejs/plugin-react (see /work/.library/env/machines/node.md), and the dev
// provider's optional peers.
const APP_DEPS = {
  react: repoVersion('react'),
  'react-dom': repoVersion('react-dom'),
}
const APP_DEV_DEPS = {
  '@types/react': repoVersion('@types/react'),
  '@types/react-dom': repoVersion('@types/react-dom'),
  typescript: repoVersion('typescript'),
  vite: '^8',
  '@vitejs/plugin-react': '^6',
  'oidc-provider': repoVersion('oidc-provider'),
  jose: repoVersion('jose'),
}
const NPM_FLAGS = ['--prefer-offline', '--no-audit', '--no-fund', '--loglevel=warn']

let passed = 0
let failed = 0
const started = Date.now()
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)} s`
function check(name, ok, detail = '') {
  if (ok) passed++
  else failed++
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`)
  return ok
}
/** Runs npm; resolves `{ ok, out }` with stderr folded in: npm's warnings are part of what we check. */
function npm(args, cwd) {
  return new Promise((resolve) => {
    execFile('npm', args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, env: { ...process.env, npm_config_update_notifier: 'false' } }, (err, stdout, stderr) => {
      resolve({ ok: !err, out: `${stdout ?? ''}${stderr ?? ''}` })
    })
  })
}
function npx(args, cwd) {
  try {
    return { ok: true, out: execFileSync('npx', ['--no-install', ...args], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }) }
  } catch (err) {
    return { ok: false, code: err.status, out: `${err.stdout ?? ''}${err.stderr ?? ''}` }
  }
}
const tail = (text, n = 15) => text.trim().split('\n').slice(-n).join('\n')

const root = mkdtempSync(path.join(os.tmpdir(), 'oauth-spa-fresh-'))
if (root.startsWith(REPO)) throw new Error('the fresh app must live outside the repository')
const cleanup = []
try {
  // 1. Pack, as `npm pack` in a clone would.
  const tarball = packTarball(REPO, root).file
  check('npm pack', existsSync(tarball), path.basename(tarball))

  // 2. A bare app with only the SDK, and the fresh Vite + React + TypeScript app: the two installs
  // run at once. The bare app gets no install script and no oidc-provider; the CLI asks for it.
  const bare = path.join(root, 'bare')
  mkdirSync(bare)
  writeFileSync(path.join(bare, 'package.json'), appPackageJson())
  const app = path.join(root, 'app')
  for (const [file, text] of Object.entries(APP_FILES)) {
    mkdirSync(path.dirname(path.join(app, file)), { recursive: true })
    writeFileSync(path.join(app, file), text)
  }
  // what `npm install <tarball>` and `npm i -D vite …` leave in package.json, installed in one go
  writeFileSync(path.join(app, 'package.json'), appPackageJson({ ...APP_DEPS, 'oauth-spa': `file:${tarball}` }, APP_DEV_DEPS))
  const [bareInstall, install] = await Promise.all([npm(['install', ...NPM_FLAGS, tarball], bare), npm(['install', ...NPM_FLAGS], app)])
  check('bare app: npm install <tarball>', bareInstall.ok, bareInstall.ok ? '' : tail(bareInstall.out))
  check('bare app: no install-script warning, no build at install', !/install-scripts|prepare|rollup: not found|browser-tabs-lock/i.test(bareInstall.out), tail(bareInstall.out, 5))
  const bareDeps = ['oidc-provider', 'jose', 'react', 'browser-tabs-lock'].filter((d) => existsSync(path.join(bare, 'node_modules', d)))
  check('bare app: runtime dependencies only (no oidc-provider, jose, react)', bareDeps.length === 0, bareDeps.join(', '))
  const missingPeer = npx(['oauth-spa', 'dev-provider', '--client-id', 'x', '--redirect-uri', 'http://127.0.0.1:9/callback', '--port', '0'], bare)
  const noClient = npx(['oauth-spa', 'dev-provider', '--redirect-uri', 'http://127.0.0.1:9/callback'], bare)
  check('bare app: dev-provider without --client-id says so', !noClient.ok && noClient.out.includes('--client-id is required'), tail(noClient.out, 3))
  check('bare app: dev-provider without oidc-provider says what to install', !missingPeer.ok && missingPeer.code === 1 && missingPeer.out.includes('npm i -D oidc-provider jose'), tail(missingPeer.out, 4))
  console.log(`  (${elapsed()})`)

  // 3. The fresh app.
  if (!check('app: npm install (the tarball, react, vite, typescript, oidc-provider …)', install.ok && existsSync(path.join(app, 'node_modules', 'oauth-spa', 'package.json')), install.ok ? '' : tail(install.out))) throw new Error('stop')
  check('app: no install-script warning', !/install-scripts|rollup: not found|browser-tabs-lock/i.test(install.out), tail(install.out, 5))
  // Two ways to a second React: installed under the SDK (a dependency instead of a peer), or
  // bundled into dist/ (react not external). React's element-type symbols are in every copy of
  // React and in no code of the SDK's own.
  const sdkDist = path.join(app, 'node_modules', 'oauth-spa', 'dist')
  const bundledReact = readdirSync(sdkDist).filter((f) => f.endsWith('.js') && /Symbol\.for\(["'`]react\./.test(readFileSync(path.join(sdkDist, f), 'utf8')))
  const nestedModules = existsSync(path.join(app, 'node_modules', 'oauth-spa', 'node_modules'))
  check('app: one React (the SDK brings none of its own)', !nestedModules && bundledReact.length === 0, [nestedModules ? 'oauth-spa/node_modules exists' : '', bundledReact.length ? `a copy of React bundled in dist/${bundledReact.join(', dist/')}` : ''].filter(Boolean).join('; '))
  console.log(`  (${elapsed()})`)

  // 4. The dev provider from the installed tarball, for an app served on a port chosen now.
  const appPort = await freePort()
  const appOrigin = `http://127.0.0.1:${appPort}`
  const dev = await startCli(app, ['oauth-spa', 'dev-provider', '--client-id', 'fresh-app', '--redirect-uri', `${appOrigin}/callback`, '--port', '0', '--api', '--api-port', '0', '--test-login', '--json'])
  cleanup.push(() => dev.stop())
  check('app: npx oauth-spa dev-provider --json', Boolean(dev.info?.issuer && dev.info?.clientOptions?.clientId === 'fresh-app' && dev.info?.api?.me), dev.error ?? '')
  if (!dev.info) throw new Error('stop')

  // 5. Strict tsc, then a production build.
  const tsc = npx(['tsc', '-p', 'tsconfig.json'], app)
  check('app: tsc --strict (src, and tests/ using oauth-spa/testing)', tsc.ok, tail(tsc.out))
  const env = { ...process.env, VITE_OAUTH_CLIENT: JSON.stringify(dev.info.clientOptions), VITE_API_ME: dev.info.api.me }
  let build = { ok: true, out: '' }
  try {
    build.out = execFileSync('npx', ['--no-install', 'vite', 'build', '--logLevel', 'warn'], { cwd: app, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  } catch (err) {
    build = { ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` }
  }
  if (!check('app: vite build (production)', build.ok && existsSync(path.join(app, 'dist', 'index.html')), tail(build.out))) throw new Error('stop')
  console.log(`  (${elapsed()})`)

  // 6. Serve dist/ and sign in in Chromium.
  const server = await serveDist(path.join(app, 'dist'), appPort)
  cleanup.push(() => server.close())
  const browser = await launchChromium()
  cleanup.push(() => browser.close())
  const testing = await import(pathToFileURL(createRequire(path.join(app, 'package.json')).resolve('oauth-spa/testing')).href)

  async function signIn({ user, viaForm }) {
    const context = await browser.newContext()
    const page = await context.newPage()
    const problems = []
    const formPages = []
    page.on('pageerror', (err) => problems.push(`pageerror: ${err.message}`))
    page.on('console', (msg) => {
      if (msg.type() === 'error') problems.push(`console.error: ${msg.text()}`)
    })
    page.on('response', (res) => {
      if (/\/interaction\/[^/]+$/.test(new URL(res.url()).pathname) && res.status() === 200) formPages.push(res.url())
    })
    try {
      if (!viaForm) await testing.useTestUser(context, { issuer: dev.info.issuer, user: user.username })
      await page.goto(`${appOrigin}/`)
      await page.locator('#sign-in').click({ timeout: 15_000 })
      if (viaForm) {
        await page.locator('#login-form').waitFor({ timeout: 15_000 })
        await page.fill('#login', user.username)
        await page.fill('#password', user.password)
        await page.click('#submit')
      }
      await page.locator('#signed-in').waitFor({ timeout: 20_000 })
      const shown = await page.locator('#signed-in').textContent()
      await page.locator('#api-sub').filter({ hasText: /\S/ }).waitFor({ timeout: 15_000 })
      const apiSub = await page.locator('#api-sub').textContent()
      return { shown, apiSub, problems, formPages, url: page.url() }
    } catch (err) {
      const body = await page.locator('body').innerText().catch(() => '')
      return { error: `${err.message.split('\n')[0]} at ${page.url()}; page: ${JSON.stringify(body.slice(0, 200))}`, problems, formPages }
    } finally {
      await context.close()
    }
  }

  const viaForm = await signIn({ user: { username: 'alice', password: 'wonderland' }, viaForm: true })
  check('production page: sign in through the provider form renders the user', viaForm.shown === 'Signed in as Alice Liddell', viaForm.error ?? viaForm.shown)
  check('production page: auth.fetch reaches the echo API with a valid token', viaForm.apiSub === 'alice', viaForm.error ?? viaForm.apiSub)
  check('production page: no page error (the blank page was two Reacts)', viaForm.problems.length === 0, viaForm.problems.join('; '))
  const viaCookie = await signIn({ user: { username: 'bob' }, viaForm: false })
  check('oauth-spa/testing useTestUser: signed in as bob without the form', viaCookie.shown === 'Signed in as Bob Builder' && viaCookie.formPages.length === 0, viaCookie.error ?? `${viaCookie.shown}; form pages served: ${viaCookie.formPages.length}`)
  // Without --test-login the cookie means nothing: the same cookie meets the provider's form.
  const plain = await startCli(app, ['oauth-spa', 'dev-provider', '--client-id', 'fresh-app', '--redirect-uri', `${appOrigin}/callback`, '--port', '0', '--json'])
  cleanup.push(() => plain.stop())
  if (plain.info) {
    const context = await browser.newContext()
    await testing.useTestUser(context, { issuer: plain.info.issuer, user: 'alice' })
    const page = await context.newPage()
    const authorize = new URL('/auth', plain.info.issuer)
    for (const [k, v] of Object.entries({ client_id: 'fresh-app', redirect_uri: `${appOrigin}/callback`, response_type: 'code', scope: 'openid', state: 'test-state', code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', code_challenge_method: 'S256' })) authorize.searchParams.set(k, v)
    await page.goto(authorize.href)
    const formShown = await page.locator('#login-form').isVisible()
    await context.close()
    check('without --test-login the cookie is ignored: the provider shows its form', formShown && new URL(page.url()).origin === plain.info.issuer, page.url())
  } else {
    check('without --test-login the cookie is ignored: the provider shows its form', false, plain.error)
  }
  await plain.stop()

  // startDevProvider from oauth-spa/testing, in this process (as a Playwright globalSetup would)
  let inProcess
  try {
    inProcess = await testing.startDevProvider({ clientId: 'fresh-app', redirectUri: `${appOrigin}/callback`, port: 0, api: true, apiPort: 0 })
    const metadata = await (await fetch(`${inProcess.issuer}/.well-known/openid-configuration`)).json()
    check('oauth-spa/testing startDevProvider: a provider with discovery, and its client options', metadata.issuer === inProcess.issuer && inProcess.clientOptions.resource === inProcess.api?.audience, inProcess.issuer)
  } catch (err) {
    check('oauth-spa/testing startDevProvider: a provider with discovery, and its client options', false, err.message)
  } finally {
    await inProcess?.close()
  }

  const stopped = await dev.stop()
  check('dev-provider stops on SIGTERM with exit code 0', stopped.code === 0, JSON.stringify(stopped))
  console.log(`  (${elapsed()})`)
} catch (err) {
  if (err.message !== 'stop') check('fresh app', false, err.stack)
} finally {
  for (const fn of cleanup.reverse()) await Promise.resolve().then(fn).catch(() => undefined)
  if (keep) console.log(`kept ${root}`)
  else rmSync(root, { recursive: true, force: true })
}
console.log(`fresh-app took ${elapsed()}`)
console.log(`fresh-app: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 && passed > 0 ? 0 : 1)
