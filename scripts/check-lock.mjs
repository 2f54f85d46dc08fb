#!/usr/bin/env node
// Fails when package-lock.json is missing an optional dependency of a locked package (for
// example rollup's `@rollup/rollup-<platform>` binaries). npm 11 writes such a lock when it was
// last touched on one platform, and `npm ci` then refuses it on a fresh clone ("Missing: … from
// lock file"). Fix: `npm install` over the committed lock adds the entries without moving versions.
import { readFileSync } from 'node:fs'

const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8'))
const packages = lock.packages ?? {}
const missing = []

/** The lock path npm would resolve `name` to from the package at `from` (node's lookup, upwards). */
function resolves(from, name) {
  let dir = from
  for (;;) {
    if (packages[`${dir ? `${dir}/` : ''}node_modules/${name}`]) return true
    if (!dir) return false
    const i = dir.lastIndexOf('/node_modules/')
    dir = i === -1 ? '' : dir.slice(0, i)
  }
}

for (const [where, entry] of Object.entries(packages)) {
  for (const name of Object.keys(entry.optionalDependencies ?? {})) {
    if (!resolves(where, name)) missing.push(`${name} (optional dependency of ${where || 'the root'})`)
  }
}

if (missing.length) {
  console.error(`package-lock.json is incomplete: ${missing.length} optional dependencies are missing, so \`npm ci\` would refuse it:`)
  for (const m of missing.slice(0, 30)) console.error(`  ${m}`)
  console.error('Run `npm install` over the committed lock (it adds them without moving versions) and commit the lock.')
  process.exit(1)
}
console.log(`package-lock.json: every optional dependency of ${Object.keys(packages).length - 1} locked packages is listed`)
