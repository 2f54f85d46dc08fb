#!/usr/bin/env node
// `npx oauth-spa <command> [options]`: a small dispatcher. Each command is a module
// `cli/<command>.mjs` exporting `async run(argv) → exit code`, loaded only when asked for, so a
// command's dependencies (oidc-provider for dev-provider) cost nothing to the others.
import { readdirSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const NAME = /^[a-z][a-z0-9-]*$/

/** The commands this package ships: every `cli/<name>.mjs` except the dispatcher itself. */
export function commands() {
  return readdirSync(HERE)
    .filter((f) => f.endsWith('.mjs') && f !== 'oauth-spa.mjs')
    .map((f) => f.slice(0, -'.mjs'.length))
    .filter((name) => NAME.test(name))
    .sort()
}

function usage() {
  return `Usage: npx oauth-spa <command> [options]

Commands:
${commands().map((c) => `  ${c}`).join('\n')}

Run \`npx oauth-spa <command> --help\` for a command's options.
`
}

export async function main(argv = process.argv.slice(2)) {
  const [command, ...rest] = argv
  if (!command || command === '-h' || command === '--help' || command === 'help') {
    process.stdout.write(usage())
    return command ? 0 : 1
  }
  if (!NAME.test(command) || !commands().includes(command)) {
    process.stderr.write(`oauth-spa: unknown command ${JSON.stringify(command)}\n\n${usage()}`)
    return 1
  }
  const mod = await import(pathToFileURL(path.join(HERE, `${command}.mjs`)).href)
  if (typeof mod.run !== 'function') {
    process.stderr.write(`oauth-spa: cli/${command}.mjs exports no run(argv)\n`)
    return 1
  }
  const code = await mod.run(rest)
  return Number.isInteger(code) ? code : 0
}

const invokedDirectly = process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href
// Also when run through the npm bin symlink (process.argv[1] is the link).
let viaLink = false
try {
  const { realpathSync } = await import('node:fs')
  viaLink = realpathSync(process.argv[1] ?? '') === fileURLToPath(import.meta.url)
} catch {
  viaLink = false
}
if (invokedDirectly || viaLink) {
  main().then(
    (code) => {
      process.exitCode = code
    },
    (err) => {
      process.stderr.write(`oauth-spa: ${err?.stack ?? err}\n`)
      process.exitCode = 1
    },
  )
}
