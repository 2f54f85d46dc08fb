#!/usr/bin/env node
// `npm test`: type-check, build, unit tests (vitest + happy-dom), then the end-to-end suite in
// real Chromium against a real OpenID Provider and API (Playwright). Prints one summary line
// "tests: N passed, N failed" at the end and exits non-zero if anything failed.
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs'
import { findChromium } from '../test/e2e/browser.mjs'

const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx'
const steps = []
let passed = 0
let failed = 0

function run(name, args) {
  console.log(`\n=== ${name}: ${args.join(' ')}`)
  const started = Date.now()
  const r = spawnSync(npx, args, { stdio: 'inherit', env: process.env })
  const ok = r.status === 0
  steps.push({ name, ok, seconds: ((Date.now() - started) / 1000).toFixed(1) })
  return ok
}

function countVitest(file) {
  if (!existsSync(file)) return false
  const report = JSON.parse(readFileSync(file, 'utf8'))
  passed += report.numPassedTests ?? 0
  failed += (report.numFailedTests ?? 0) + (report.numRuntimeErrorTestSuites ?? 0)
  return true
}

function countPlaywright(file) {
  if (!existsSync(file)) return false
  const { stats } = JSON.parse(readFileSync(file, 'utf8'))
  passed += (stats.expected ?? 0) + (stats.flaky ?? 0)
  failed += (stats.unexpected ?? 0)
  // A skipped e2e test is not a pass: count it as a failure so nothing hides.
  failed += stats.skipped ?? 0
  return true
}

mkdirSync('test-results', { recursive: true })
for (const f of ['test-results/unit.json', 'test-results/e2e.json']) rmSync(f, { force: true })

const lock = run('lockfile', ['node', 'scripts/check-lock.mjs'])
const typecheck = run('typecheck', ['tsc', '--noEmit', '-p', 'tsconfig.json'])
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
  if (!browser) {
    console.error(
      '\nNo Chromium found for the end-to-end suite. Set CHROMIUM_PATH, or install one:\n' +
        '  Debian/Ubuntu: sudo apt-get install -y chromium   (then /usr/bin/chromium is used)\n' +
        '  elsewhere:     npx playwright install chromium\n',
    )
    failed++
    steps.push({ name: 'e2e', ok: false, seconds: '0' })
  } else {
    console.log(`\nChromium: ${browser}`)
    const e2e = run('e2e', ['playwright', 'test', '-c', 'playwright.config.mjs'])
    if (!countPlaywright('test-results/e2e.json') && !e2e) failed++
  }
  // The packed tarball: contents, publint, attw (issue 12 §4); then a fresh Vite + React + TS app
  // outside the repo installs it, builds for production and signs in in Chromium (§3, issue 17 §2).
  if (!run('package', ['node', 'test/package/check-package.mjs'])) failed++
  if (browser && !run('fresh-app', ['node', 'test/package/fresh-app.mjs'])) failed++
} else {
  failed++
}

console.log('\n=== summary')
for (const s of steps) console.log(`${s.ok ? 'ok  ' : 'FAIL'} ${s.name} (${s.seconds} s)`)
console.log(`tests: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 && steps.every((s) => s.ok) ? 0 : 1)
