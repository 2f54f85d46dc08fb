#!/usr/bin/env node
// `npm test`: lockfile check, type-check, build (once), unit tests (vitest + happy-dom), then at
// the same time: the Chromium end-to-end suite (Playwright, test/e2e/*.spec.mjs) and the shared
// engine suite in every engine (test/e2e/engines/run.mjs: chromium, firefox, webkit), all
// against a real OpenID Provider and API on 127.0.0.1. Prints one line per engine suite,
// `e2e[firefox]: N passed, N failed`, and ends with the one total line
// "tests: N passed, N failed"; exits non-zero if anything failed.
//
// E2E_ENGINES_SERIAL=1 runs the engine suites after Playwright instead of beside it.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { findChromium } from '../test/e2e/browser.mjs'
import { engineFailures, firstLine, NODE_TEST_FAILURE, playwrightFailures, vitestFailures } from './failed-tests.mjs'

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx'
const PROVIDER_WARNING = /^oidc-provider WARNING: Unsupported runtime/
const steps = []
const lines = []
/** A line per failed test, `suite: where › name — why`, printed with the summary. */
const failures = []
let passed = 0
let failed = 0
let warned = false

function run(name, args) {
  console.log(`\n=== ${name}: ${args.join(' ')}`)
  const started = Date.now()
  const r = spawnSync(npx, args, { stdio: 'inherit', env: process.env })
  const ok = r.status === 0
  steps.push({ name, ok, seconds: ((Date.now() - started) / 1000).toFixed(1) })
  return ok
}

/**
 * Runs a step beside others: its output is streamed line by line (prefixed when `prefix` is
 * given), with the oidc-provider runtime warning shown once for the whole run.
 */
function runConcurrent(name, command, args, { prefix = '', env = {}, onLine: observe } = {}) {
  console.log(`\n=== ${name}: ${[command, ...args].join(' ')} (started)`)
  const started = Date.now()
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OAUTH_SPA_E2E_WARNED: '1', ...env } })
    const onLine = (line) => {
      if (PROVIDER_WARNING.test(line)) {
        if (!warned) console.log(line)
        warned = true
        return
      }
      observe?.(line)
      console.log(`${prefix}${line}`)
    }
    for (const stream of [child.stdout, child.stderr]) {
      let rest = ''
      stream.setEncoding('utf8')
      stream.on('data', (chunk) => {
        const parts = (rest + chunk).split('\n')
        rest = parts.pop()
        parts.forEach(onLine)
      })
      stream.on('end', () => rest && onLine(rest))
    }
    child.on('close', (code) => {
      const ok = code === 0
      const seconds = ((Date.now() - started) / 1000).toFixed(1)
      steps.push({ name, ok, seconds })
      console.log(`=== ${name}: ${ok ? 'done' : `failed (exit ${code})`} in ${seconds} s`)
      resolve(ok)
    })
  })
}

function countVitest(file) {
  if (!existsSync(file)) return false
  const report = JSON.parse(readFileSync(file, 'utf8'))
  passed += report.numPassedTests ?? 0
  failed += (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0)
  failures.push(...vitestFailures(file))
  lines.push(`unit: ${report.numPassedTests ?? 0} passed, ${(report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0)} failed`)
  return true
}

/** The one e2e test that rebuilds dist/ (it runs `npm run demo` as a user would). */
const DEMO_BUILDS = 'npm run demo itself'

function countPlaywright(file, label = 'e2e[chromium, playwright]') {
  if (!existsSync(file)) return false
  const { stats } = JSON.parse(readFileSync(file, 'utf8'))
  const p = (stats.expected ?? 0) + (stats.flaky ?? 0)
  // A skipped e2e test is not a pass: count it as a failure so nothing hides.
  const f = (stats.unexpected ?? 0) + (stats.skipped ?? 0)
  passed += p
  failed += f
  lines.push(`${label}: ${p} passed, ${f} failed`)
  failures.push(...playwrightFailures(file, label))
  return true
}

function countEngines(file) {
  if (!existsSync(file)) return false
  const { engines } = JSON.parse(readFileSync(file, 'utf8'))
  if (!engines.length) return false
  for (const r of engines) {
    passed += r.passed
    failed += r.failed
    lines.push(`e2e[${r.engine}]: ${r.passed} passed, ${r.failed} failed`)
  }
  failures.push(...engineFailures(file))
  return true
}

mkdirSync('test-results', { recursive: true })
for (const f of ['test-results/unit.json', 'test-results/e2e.json', 'test-results/e2e-demo-build.json', 'test-results/engines.json']) rmSync(f, { force: true })

const lock = run('lockfile', ['node', 'scripts/check-lock.mjs'])
if (!lock) failed++
const typecheck = run('typecheck', ['tsc', '--noEmit', '-p', 'tsconfig.json'])
// The API reference from the TSDoc (typedoc.json: warnings are errors, so an undocumented export
// or a broken {@link} fails here). Output in docs/api/, not committed.
if (!run('docs', ['typedoc', '--logLevel', 'Warn'])) failed++
// The one build: every e2e suite below loads dist/ as it is (none of them builds again).
const build = typecheck && run('build', ['rollup', '-c'])
if (build) {
  const unit = run('unit', ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=test-results/unit.json'])
  if (!countVitest('test-results/unit.json') && !unit) failed++

  let browser
  try {
    browser = findChromium().path
  } catch {
    browser = undefined
  }
  const playwright = async () => {
    if (!browser) {
      console.error(
        '\nNo Chromium found for the end-to-end suite. Set CHROMIUM_PATH, or install one:\n' +
          '  Debian/Ubuntu: sudo apt-get install -y chromium   (then /usr/bin/chromium is used)\n' +
          '  elsewhere:     npx playwright install chromium\n',
      )
      failed++
      steps.push({ name: 'e2e', ok: false, seconds: '0' })
      return
    }
    console.log(`\nChromium: ${browser}`)
    const before = failed
    const ok = await runConcurrent('e2e', npx, ['playwright', 'test', '-c', 'playwright.config.mjs', '--grep-invert', DEMO_BUILDS])
    // A run that failed without a failing test in its report (no tests found, a crash) is one failure.
    if ((!countPlaywright('test-results/e2e.json') || failed === before) && !ok) failed++
  }
  // `npm run demo` builds dist/ afresh (rollup empties it first): run alone, after every suite that
  // loads dist/ has finished, or those suites see a half-built dist/ (seen: WebKit's "Importing a
  // module script failed", and a tarball packed without its .d.ts files).
  const demoBuilds = async () => {
    if (!browser) return
    const before = failed
    const ok = await runConcurrent('e2e-demo-build', npx, ['playwright', 'test', '-c', 'playwright.config.mjs', '--grep', DEMO_BUILDS], {
      env: { E2E_JSON_REPORT: 'test-results/e2e-demo-build.json', E2E_OUTPUT_DIR: 'test-results/e2e-demo-build-artifacts' },
    })
    if ((!countPlaywright('test-results/e2e-demo-build.json', 'e2e[chromium, npm run demo]') || failed === before) && !ok) failed++
  }
  const engines = async () => {
    const before = failed
    const ok = await runConcurrent('e2e-engines', process.execPath, ['test/e2e/engines/run.mjs'])
    if ((!countEngines('test-results/engines.json') || failed === before) && !ok) failed++
  }
  /** A node script that ends with a plain `name: N passed, N failed` line: counted into the total. */
  const counted = async (name, args) => {
    const before = failed
    let seen = false
    const ok = await runConcurrent(name, process.execPath, args, {
      onLine: (line) => {
        // node:test's `not ok: …` (scripts/node-test-summary.mjs), or the package checks' `FAIL name: why`
        const f = NODE_TEST_FAILURE.exec(line) ?? /^FAIL (.+)$/.exec(line)
        if (f) failures.push(`${name}: ${firstLine(f[1])}`)
        const m = /^([\w-]+(?:\[[\w, -]+\])?): (\d+) passed, (\d+) failed/.exec(line)
        if (!m) return
        seen = true
        passed += Number(m[2])
        failed += Number(m[3])
        lines.push(line)
      },
    })
    // A run that failed without a counted failure (a crash, no summary) is one failure.
    if ((!seen || failed === before) && !ok) failed++
  }
  // The packed tarball: contents, publint, attw (issue 12 §4); then a fresh Vite + React + TS app
  // outside the repo installs it, builds for production and signs in in Chromium (§3, issue 17 §2);
  // the doctor CLI against the bundled provider set up right and wrong (issue 14 §3).
  const others = async () => {
    await engines()
    await counted('package', ['test/package/check-package.mjs'])
    if (browser) await counted('fresh-app', ['test/package/fresh-app.mjs'])
    await counted('cli', ['--test', '--test-reporter=spec', '--test-reporter-destination=stdout', '--test-reporter=./scripts/node-test-summary.mjs', '--test-reporter-destination=stdout', 'test/cli/'])
  }
  if (process.env.E2E_ENGINES_SERIAL === '1') {
    await playwright()
    await others()
  } else {
    await Promise.all([playwright(), others()])
  }
  await demoBuilds()
} else {
  failed++
}

console.log('\n=== summary')
for (const s of steps) console.log(`${s.ok ? 'ok  ' : 'FAIL'} ${s.name} (${s.seconds} s)`)
for (const l of lines) console.log(l)
if (failures.length) console.log(`failed tests:\n${failures.map((f) => `  ${f}`).join('\n')}`)
console.log(`tests: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 && steps.every((s) => s.ok) ? 0 : 1)
