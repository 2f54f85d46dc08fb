#!/usr/bin/env node
// Runs the shared engine suite (suite.mjs) in each engine, plus that engine's own test files
// (`<engine>-*.mjs` using node:test), one node --test process per engine, and ends with one
// line per engine, `e2e[firefox]: N passed, N failed`.
//
//   node test/e2e/engines/run.mjs                     every engine with a driver module here
//   node test/e2e/engines/run.mjs firefox webkit      those engines
//   E2E_ENGINE=firefox node test/e2e/engines/run.mjs  the same, from the environment
//   --parallel                                        engines at once instead of one after another
//   --json FILE                                       counts per engine (default test-results/engines.json)
//   --test-name-pattern=REGEX                         passed to node --test (then skipped tests are not failures)
//
// Output lines are prefixed with the engine. The oidc-provider "Unsupported runtime" warning
// (printed once per process that loads it) is printed once here, or not at all when the
// caller already did (OAUTH_SPA_E2E_WARNED=1). Skipped or cancelled tests count as failed.
// Needs the SDK build (dist/): run `npm run build` first.
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { NODE_TEST_FAILURE } from '../../../scripts/failed-tests.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, '..', '..', '..')
const ALL = ['chromium', 'firefox', 'webkit']
/** Prints `not ok: …` for each failed test, collected into the report's `failures`. */
const SUMMARY = path.join(ROOT, 'scripts', 'node-test-summary.mjs')
export const PROVIDER_WARNING = /^oidc-provider WARNING: Unsupported runtime/

const argv = process.argv.slice(2)
const parallel = argv.includes('--parallel')
const jsonAt = argv.indexOf('--json')
const jsonFile = path.resolve(ROOT, jsonAt >= 0 ? argv[jsonAt + 1] : 'test-results/engines.json')
const named = argv.filter((a, i) => !a.startsWith('--') && (jsonAt < 0 || i !== jsonAt + 1))
const nodeTestArgs = argv.filter((a) => a.startsWith('--test-'))
const filtered = nodeTestArgs.some((a) => a.startsWith('--test-name-pattern'))
const requested = named.length ? named : (process.env.E2E_ENGINE?.split(',').filter(Boolean) ?? [])
// Without a choice: every engine that has a driver module (webkit.mjs may not exist yet).
const engines = requested.length ? requested : ALL.filter((e) => existsSync(path.join(HERE, `${e}.mjs`)))
for (const e of ALL.filter((x) => !engines.includes(x))) console.log(`engines: ${e} not run (${requested.length ? 'not asked for' : `no driver module test/e2e/engines/${e}.mjs`})`)
for (const e of engines) {
  if (!ALL.includes(e)) {
    console.error(`engines: unknown engine ${e} (expected ${ALL.join(', ')})`)
    process.exit(2)
  }
}
// The test app loads dist/index.js (and its chunks), or the standalone file with E2E_SDK_BUILD=standalone.
const SDK = process.env.E2E_SDK_BUILD === 'standalone' ? 'oauth-spa.standalone.min.js' : 'index.js'
if (!existsSync(path.join(ROOT, 'dist', SDK))) {
  console.error(`engines: dist/${SDK} is missing; run \`npm run build\` first`)
  process.exit(1)
}

/**
 * The shared suites (suite.mjs, suite-*.mjs), then the engine's own test files: `<engine>-*.mjs` here that use node's test
 * runner (e.g. webkit-smoke.mjs, webkit-persistent.mjs, webkit-no-web-locks.mjs). One browser at a time.
 */
function testFiles(engine) {
  const own = readdirSync(HERE)
    .filter((f) => f.startsWith(`${engine}-`) && f.endsWith('.mjs'))
    .filter((f) => /from ['"]node:test['"]/.test(readFileSync(path.join(HERE, f), 'utf8')))
    .sort()
  // suite.mjs first, then the other shared suites (suite-*.mjs), then the engine's own files.
  const shared = readdirSync(HERE).filter((f) => /^suite(-[\w-]+)?\.mjs$/.test(f) && !f.endsWith('-helpers.mjs')).sort()
  return [...shared, ...own].map((f) => path.join(HERE, f))
}

let warned = process.env.OAUTH_SPA_E2E_WARNED === '1'
const children = new Set()

/** Runs the suite in one engine; resolves with { engine, passed, failed, seconds }. */
function runEngine(engine) {
  const started = Date.now()
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--test', '--test-reporter=spec', '--test-reporter-destination=stdout', `--test-reporter=${SUMMARY}`, '--test-reporter-destination=stdout', '--test-concurrency=1', ...nodeTestArgs, ...testFiles(engine)], {
      cwd: ROOT,
      env: { ...process.env, E2E_ENGINE: engine, FORCE_COLOR: '0', NODE_TEST_LABEL: 'all suites', ...(filtered ? { NODE_TEST_SKIPPED_OK: '1' } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    children.add(child)
    const counts = {}
    const failures = []
    const onLine = (line) => {
      if (PROVIDER_WARNING.test(line)) {
        if (!warned) console.log(line)
        warned = true
        return
      }
      const m = /^ℹ (tests|pass|fail|cancelled|skipped|todo) (\d+)$/.exec(line)
      if (m) counts[m[1]] = Number(m[2])
      const f = NODE_TEST_FAILURE.exec(line)
      if (f) failures.push(f[1])
      console.log(`[${engine}] ${line}`)
    }
    for (const stream of [child.stdout, child.stderr]) {
      let rest = ''
      stream.setEncoding('utf8')
      stream.on('data', (chunk) => {
        const lines = (rest + chunk).split('\n')
        rest = lines.pop()
        lines.forEach(onLine)
      })
      stream.on('end', () => rest && onLine(rest))
    }
    child.on('close', (code) => {
      children.delete(child)
      const seconds = Number(((Date.now() - started) / 1000).toFixed(1))
      if (counts.tests === undefined) {
        // no summary: the process died before reporting (count it as one failure, never a pass)
        resolve({ engine, passed: 0, failed: 1, seconds, exit: code, note: 'no test summary', failures })
        return
      }
      // A skipped test is not a pass (unless a name pattern skipped it on purpose).
      const failed = (counts.fail ?? 0) + (counts.cancelled ?? 0) + (filtered ? 0 : (counts.skipped ?? 0) + (counts.todo ?? 0))
      resolve({ engine, passed: counts.pass ?? 0, failed: failed || (code === 0 ? 0 : 1), seconds, exit: code, failures })
    })
  })
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const c of children) c.kill(signal)
    process.exit(1)
  })
}

const results = []
if (parallel) results.push(...(await Promise.all(engines.map(runEngine))))
else for (const e of engines) results.push(await runEngine(e))

mkdirSync(path.dirname(jsonFile), { recursive: true })
writeFileSync(jsonFile, `${JSON.stringify({ engines: results }, null, 2)}\n`)
for (const r of results) console.log(`e2e[${r.engine}]: ${r.passed} passed, ${r.failed} failed (${r.seconds} s)${r.note ? ` (${r.note})` : ''}`)
process.exit(results.length > 0 && results.every((r) => r.failed === 0) ? 0 : 1)
