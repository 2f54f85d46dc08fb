#!/usr/bin/env node
// Issue 12 §4: the packed tarball checked like a library's. Packs the package (needs dist/), then:
//   - it holds exactly what is shipped on purpose: dist/ (JavaScript and .d.ts), the CLI (cli/),
//     the dev provider it runs (dev-provider/), README.md, LICENSE and package.json; nothing else;
//   - no source map, and no sourceMappingURL comment pointing at a file the tarball lacks;
//   - every `bin` and `exports` target is in it;
//   - publint: no error, no warning;
//   - @arethetypeswrong/cli (profile esm-only: the package is ESM only, so CommonJS `require`
//     and node10 are out of scope): no problem, and types resolve for every entry under node16
//     (from ESM) and bundler.
// Prints "package: N passed, N failed"; exit 1 on failure.
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { packTarball } from './support.mjs'

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8'))
/** Every entry of `exports` but package.json: types must resolve for each. */
const ENTRIES = Object.keys(pkg.exports).filter((k) => k !== './package.json')
/** What may ship: anything else in the tarball fails the check. */
const ALLOWED = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^dist\/[\w.-]+\.(js|d\.ts)$/,
  /^cli\/[a-z][a-z0-9-]*\.mjs$/,
  /^dev-provider\/[a-z][a-z0-9-]*\.mjs$/,
]
const REQUIRED = ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'cli/oauth-spa.mjs', 'cli/dev-provider.mjs', 'dev-provider/index.mjs', 'dev-provider/provider.mjs', 'dev-provider/api.mjs']

let passed = 0
let failed = 0
function check(name, ok, detail = '') {
  if (ok) passed++
  else failed++
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${name}${detail ? `: ${detail}` : ''}`)
}
function runTool(cmd, args) {
  try {
    return { ok: true, out: execFileSync(cmd, args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * 1024 * 1024 }) }
  } catch (err) {
    return { ok: false, out: `${err.stdout ?? ''}${err.stderr ?? ''}` }
  }
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'oauth-spa-pack-'))
try {
  const { file: tarball, files } = packTarball(REPO, dir)
  console.log(`packed ${path.basename(tarball)}: ${files.length} files`)

  const unexpected = files.filter((f) => !ALLOWED.some((re) => re.test(f)))
  check('tarball holds only dist/, cli/, dev-provider/, README.md, LICENSE, package.json', unexpected.length === 0, unexpected.join(', '))
  const missing = REQUIRED.filter((f) => !files.includes(f))
  check('tarball holds the entries, the CLI and the dev provider', missing.length === 0, missing.join(', '))
  const targets = [...Object.values(pkg.bin ?? {}), ...Object.values(pkg.exports).flatMap((t) => (typeof t === 'string' ? [t] : Object.values(t)))].map((t) => t.replace(/^\.\//, ''))
  const absentTargets = [...new Set(targets)].filter((t) => !files.includes(t))
  check('every bin and exports target is in the tarball', absentTargets.length === 0, absentTargets.join(', '))

  // Source maps: none shipped, and no shipped file points at one that is not there.
  const listing = execFileSync('tar', ['-xzOf', tarball, ...files.filter((f) => /\.(m?js|d\.ts)$/.test(f)).map((f) => `package/${f}`)], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 })
  const dangling = [...listing.matchAll(/[#@] sourceMappingURL=([^\s'"]+)/g)].map((m) => m[1]).filter((u) => !u.startsWith('data:'))
  check('no source map, and no sourceMappingURL to a file the tarball lacks', files.every((f) => !f.endsWith('.map')) && dangling.length === 0, dangling.join(', '))

  const publint = runTool('npx', ['--no-install', 'publint', 'run', tarball, '--level', 'warning', '--strict'])
  check('publint (warnings are errors)', publint.ok && /All good/.test(publint.out), publint.out.trim().split('\n').slice(-12).join('\n'))

  const attw = runTool('npx', ['--no-install', 'attw', tarball, '--profile', 'esm-only', '--format', 'json'])
  let report
  try {
    report = JSON.parse(attw.out.slice(attw.out.indexOf('{')))
  } catch {
    report = undefined
  }
  check('@arethetypeswrong/cli --profile esm-only: no problem', attw.ok && report !== undefined, attw.ok ? '' : attw.out.slice(0, 2000))
  for (const entry of ENTRIES) {
    for (const kind of ['node16-esm', 'bundler']) {
      const resolution = report?.analysis?.entrypoints?.[entry]?.resolutions?.[kind]
      const typesFile = resolution?.resolution?.fileName
      const problems = (report?.analysis?.problems ?? []).filter((p) => p.entrypoint === entry && p.resolutionKind === kind)
      check(`types resolve for "${entry}" under ${kind}`, Boolean(typesFile?.endsWith('.d.ts')) && problems.length === 0, typesFile ? problems.map((p) => p.kind).join(', ') : 'no resolution')
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true })
}
console.log(`package: ${passed} passed, ${failed} failed`)
process.exit(failed === 0 && passed > 0 ? 0 : 1)
