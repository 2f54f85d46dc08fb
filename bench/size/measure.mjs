// Bytes shipped: each entry in ./entries is bundled by the same rollup setup
// (node-resolve with browser conditions, commonjs, NODE_ENV=production, terser) and reported as
// minified, gzip (level 9) and brotli (quality 11) bytes.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { brotliCompressSync, constants as zlib, gzipSync } from 'node:zlib'

import commonjs from '@rollup/plugin-commonjs'
import resolve from '@rollup/plugin-node-resolve'
import replace from '@rollup/plugin-replace'
import terser from '@rollup/plugin-terser'
import { rollup, VERSION as ROLLUP_VERSION } from 'rollup'

const HERE = path.dirname(fileURLToPath(import.meta.url))
export const REPO = path.resolve(HERE, '..', '..')
const WORK = path.join(REPO, 'bench', '.work', 'size')
const require = createRequire(import.meta.url)

/** The same terser options as the repo's standalone build. */
export const TERSER_OPTIONS = { format: { comments: false }, ecma: 2020, module: true }

export const ENTRIES = [
  { id: 'oauth-spa', label: 'oauth-spa (core, DPoP + cross-tab incl.)', pkg: null, file: 'oauth-spa.js' },
  { id: 'floor', label: 'floor: oauth4webapi + idb-keyval, no SDK', pkg: null, file: 'floor.js' },
  { id: 'floor-dpop', label: 'floor with DPoP (same, plus DPoP)', pkg: null, file: 'floor-dpop.js' },
  { id: 'oidc-client-ts', label: 'oidc-client-ts', pkg: 'oidc-client-ts', file: 'oidc-client-ts.js' },
  { id: 'auth0-spa-js', label: '@auth0/auth0-spa-js', pkg: '@auth0/auth0-spa-js', file: 'auth0-spa-js.js' },
  { id: 'msal-browser', label: '@azure/msal-browser', pkg: '@azure/msal-browser', file: 'msal-browser.js' },
  { id: 'okta-auth-js', label: '@okta/okta-auth-js', pkg: '@okta/okta-auth-js', file: 'okta-auth-js.js' },
  {
    id: 'oauth-spa-react',
    label: 'oauth-spa core + React entry (react external)',
    pkg: null,
    file: 'oauth-spa-react.js',
    external: [/^react(\/|$)/, /^react-dom(\/|$)/],
  },
]

/** The peer SDKs live in bench/node_modules (bench/package.json); the build tools at the root. */
export function versionOf(pkg) {
  for (const dir of [path.join(REPO, 'bench', 'node_modules'), path.join(REPO, 'node_modules')]) {
    try {
      return JSON.parse(readFileSync(path.join(dir, pkg, 'package.json'), 'utf8')).version
    } catch {
      // not installed there
    }
  }
  return require(`${pkg}/package.json`).version
}

export function compressed(code) {
  const buf = Buffer.from(code)
  return {
    min: buf.length,
    gzip: gzipSync(buf, { level: 9 }).length,
    brotli: brotliCompressSync(buf, {
      params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: buf.length },
    }).length,
  }
}

/**
 * Bundles one entry. Dynamic imports are kept as separate chunks: `initial` counts the entry chunk
 * and what it imports statically, `total` every chunk (what a user may eventually download).
 */
export async function bundle(entryFile, { external = [], sourcemap = false, plugins = [] } = {}) {
  const warnings = {}
  const build = await rollup({
    input: entryFile,
    external,
    treeshake: true,
    onwarn(warning) {
      warnings[warning.code ?? 'OTHER'] = (warnings[warning.code ?? 'OTHER'] ?? 0) + 1
    },
    plugins: [
      ...plugins,
      replace({ preventAssignment: true, values: { 'process.env.NODE_ENV': JSON.stringify('production') } }),
      resolve({ browser: true, preferBuiltins: false }),
      commonjs(),
      terser(TERSER_OPTIONS),
    ],
  })
  const { output } = await build.generate({ format: 'es', sourcemap, sourcemapExcludeSources: true })
  await build.close()
  const chunks = output.filter((o) => o.type === 'chunk')
  const entry = chunks.find((c) => c.isEntry)
  const initialNames = new Set([entry.fileName])
  const queue = [entry]
  while (queue.length) {
    for (const imp of queue.pop().imports) {
      const c = chunks.find((x) => x.fileName === imp)
      if (c && !initialNames.has(c.fileName)) {
        initialNames.add(c.fileName)
        queue.push(c)
      }
    }
  }
  const sum = (list) => list.reduce((a, c) => ({ min: a.min + c.min, gzip: a.gzip + c.gzip, brotli: a.brotli + c.brotli }), { min: 0, gzip: 0, brotli: 0 })
  const sized = chunks.map((c) => ({ fileName: c.fileName, ...compressed(c.code) }))
  return {
    entry,
    chunks,
    warnings,
    chunkCount: chunks.length,
    initial: sum(sized.filter((c) => initialNames.has(c.fileName))),
    total: sum(sized),
    lazy: sized.filter((c) => !initialNames.has(c.fileName)),
  }
}

/** Measures every entry. Returns rows and the budget checks. */
export async function measureSizes({ log = console.log } = {}) {
  mkdirSync(WORK, { recursive: true })
  const rows = []
  for (const e of ENTRIES) {
    const t0 = performance.now()
    const result = await bundle(path.join(HERE, 'entries', e.file), { external: e.external ?? [] })
    for (const c of result.chunks) writeFileSync(path.join(WORK, `${e.id}--${c.fileName}`), c.code)
    const version = e.pkg
      ? versionOf(e.pkg)
      : e.id.startsWith('floor')
        ? `oauth4webapi ${versionOf('oauth4webapi')}, idb-keyval ${versionOf('idb-keyval')}`
        : `${JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).version} (dist/)`
    rows.push({
      id: e.id,
      label: e.label,
      version,
      initial: result.initial,
      total: result.total,
      chunks: result.chunkCount,
      lazyChunks: result.lazy.length,
      warnings: result.warnings,
      buildMs: Math.round(performance.now() - t0),
    })
    log(`  bundled ${e.id} in ${Math.round(performance.now() - t0)} ms (${result.chunkCount} chunk${result.chunkCount === 1 ? '' : 's'})`)
  }
  const by = Object.fromEntries(rows.map((r) => [r.id, r]))
  const KB = 1024
  const core = by['oauth-spa'].total.gzip
  const floor = by.floor.total.gzip
  const floorDpop = by['floor-dpop'].total.gzip
  const reactAdds = by['oauth-spa-react'].total.gzip - core
  const budgets = [
    { name: 'oauth-spa gzip ≤ 11 KB', value: core, limit: 11 * KB, pass: core <= 11 * KB },
    { name: 'oauth-spa gzip ≤ floor + 3.8 KB', value: core - floor, limit: 3.8 * KB, pass: core - floor <= 3.8 * KB, detail: `floor ${floor} B, over floor ${core - floor} B` },
    { name: 'React entry adds ≤ 1.5 KB gzip over the core', value: reactAdds, limit: 1.5 * KB, pass: reactAdds <= 1.5 * KB },
  ]
  // Not a budget of the issue: what the 11 KB budget leaves once DPoP itself is paid for.
  const context = {
    floorDpop,
    dpopCost: floorDpop - floor,
    overFloorDpop: core - floorDpop,
    leftUnder11KB: 11 * KB - floorDpop,
  }
  return {
    context,
    tool: {
      rollup: ROLLUP_VERSION,
      terser: versionOf('terser'),
      '@rollup/plugin-node-resolve': versionOf('@rollup/plugin-node-resolve'),
      '@rollup/plugin-commonjs': versionOf('@rollup/plugin-commonjs'),
      '@rollup/plugin-terser': versionOf('@rollup/plugin-terser'),
      terserOptions: TERSER_OPTIONS,
      gzip: 'zlib level 9',
      brotli: 'quality 11',
    },
    rows,
    budgets,
  }
}
