#!/usr/bin/env node
// `npm run test:e2e`: runs the Playwright suite (playwright.config.mjs) and closes with one plain
// line `e2e: N passed, N failed, N skipped`. Extra arguments go to `playwright test`.
// Needs the SDK build (dist/index.js for the test app, dist/oauth-spa.standalone.min.js for the demo
// and the recipe apps): run `npm run build` first.
import { spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const BUILDS = ['index.js', 'oauth-spa.standalone.min.js'].map((f) => path.join(ROOT, 'dist', f))
const REPORT = path.resolve(ROOT, process.env.E2E_JSON_REPORT ?? 'test-results/e2e.json')

for (const file of BUILDS) {
  if (!existsSync(file)) {
    console.error(`e2e: ${path.relative(ROOT, file)} is missing; run \`npm run build\` first`)
    process.exit(1)
  }
}

const cli = createRequire(import.meta.url).resolve('@playwright/test/cli')
const child = spawn(process.execPath, [cli, 'test', '-c', path.join(ROOT, 'playwright.config.mjs'), ...process.argv.slice(2)], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, E2E_JSON_REPORT: REPORT },
})
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal))

child.on('exit', (code, signal) => {
  let line = 'e2e: no report written'
  try {
    const { stats } = JSON.parse(readFileSync(REPORT, 'utf8'))
    line = `e2e: ${stats.expected} passed, ${stats.unexpected + stats.flaky} failed, ${stats.skipped} skipped`
  } catch {
    // keep the fallback line
  }
  console.log(line)
  process.exit(signal ? 1 : (code ?? 1))
})
