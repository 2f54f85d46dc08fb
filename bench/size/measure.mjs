// Bytes shipped: each entry in ./entries is bundled by the same rollup setup
// (node-resolve with browser conditions, commonjs, NODE_ENV=production, terser) and reported as
// minified, gzip (level 9) and brotli (quality 11) bytes.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
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
  { id: 'oauth-spa', label: 'oauth-spa, without DPoP', pkg: null, file: 'oauth-spa.js' },
  { id: 'oauth-spa-dpop', label: 'oauth-spa, dpop: true', pkg: null, file: 'oauth-spa-dpop.js', startupRoles: ['dpop'] },
  { id: 'floor', label: 'floor: oauth4webapi + idb-keyval, no SDK', pkg: null, file: 'floor.js' },
  { id: 'floor-dpop', label: 'floor with DPoP (same, plus DPoP)', pkg: null, file: 'floor-dpop.js' },
  { id: 'oidc-client-ts', label: 'oidc-client-ts', pkg: 'oidc-client-ts', file: 'oidc-client-ts.js' },
  { id: 'auth0-spa-js', label: '@auth0/auth0-spa-js', pkg: '@auth0/auth0-spa-js', file: 'auth0-spa-js.js' },
  { id: 'msal-browser', label: '@azure/msal-browser', pkg: '@azure/msal-browser', file: 'msal-browser.js' },
  { id: 'okta-auth-js', label: '@okta/okta-auth-js', pkg: '@okta/okta-auth-js', file: 'okta-auth-js.js' },
  {
    id: 'oauth-spa-react',
    label: 'oauth-spa + React entry, without DPoP (react external)',
    pkg: null,
    file: 'oauth-spa-react.js',
    external: [/^react(\/|$)/, /^react-dom(\/|$)/],
  },
]

const CACHE = path.join(WORK, 'peer-sizes.json')

function peerCacheKey(e) {
  const hash = createHash('sha256')
  hash.update(readFileSync(path.join(HERE, 'entries', e.file)))
  hash.update(readFileSync(path.join(REPO, 'bench', 'package-lock.json')))
  hash.update(JSON.stringify([ROLLUP_VERSION, versionOf('terser'), versionOf('@rollup/plugin-node-resolve'), versionOf('@rollup/plugin-commonjs'), TERSER_OPTIONS]))
  return hash.digest('hex')
}

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
  const sized = chunks.map((c) => ({ fileName: c.fileName, ...compressed(c.code), sources: sourcesOf(c), dynamicImports: c.dynamicImports }))
  /** The chunks a lazy role needs (its chunks and their static imports) beyond `base`. */
  const roleChunks = (role, base) => {
    const pattern = LAZY_ROLES[role]
    const names = new Set()
    const q = sized.filter((c) => !base.has(c.fileName) && c.sources.some((s) => pattern.test(s)))
    for (const c of q) names.add(c.fileName)
    while (q.length) {
      const next = q.pop().fileName
      for (const imp of chunks.find((x) => x.fileName === next).imports) {
        const chunk = sized.find((x) => x.fileName === imp)
        // (An external module, e.g. react in the React entry, is no chunk of the app.)
        if (chunk && !base.has(imp) && !names.has(imp)) {
          names.add(imp)
          q.push(chunk)
        }
      }
    }
    return names
  }
  return {
    entry,
    chunks,
    warnings,
    chunkCount: chunks.length,
    initialNames,
    initial: sum(sized.filter((c) => initialNames.has(c.fileName))),
    total: sum(sized),
    lazy: sized.filter((c) => !initialNames.has(c.fileName)),
    sized,
    roleChunks,
  }
}

const sum = (list) => list.reduce((a, c) => ({ min: a.min + c.min, gzip: a.gzip + c.gzip, brotli: a.brotli + c.brotli }), { min: 0, gzip: 0, brotli: 0 })

/**
 * Lazy chunks with a role, recognised by the oauth-spa source files they contain (through the
 * source maps of dist/): `dpop` is loaded at start by an app with `dpop: true` (its first request
 * needs a proof), `refresh` by the first request after a reload with an expired token. Adjust the
 * patterns here when src/ is laid out differently.
 */
export const LAZY_ROLES = {
  // The protocol chunk (dist/protocol-*.js: oauth4webapi, the refresh grant, DPoP keys and proofs) and what it imports.
  dpop: /(^|\/)(src\/dpop\/|src\/provider\/protocol\.ts$|dist\/protocol-[^/]*\.js$)/,
  refresh: /(^|\/)(src\/provider\/protocol\.ts$|dist\/protocol-[^/]*\.js$)/,
}

/** The repository-relative source files of a bundled chunk (dist/ modules mapped back to src/ by their source maps). */
function sourcesOf(chunk) {
  const out = new Set()
  for (const id of Object.keys(chunk.modules)) {
    const mapFile = `${id}.map`
    if (id.startsWith(path.join(REPO, 'dist') + path.sep) && existsSync(mapFile)) {
      const map = JSON.parse(readFileSync(mapFile, 'utf8'))
      for (const s of map.sources ?? []) out.add(path.relative(REPO, path.resolve(path.dirname(id), map.sourceRoot ?? '', s)))
    } else {
      out.add(path.relative(REPO, id.replace(/^\0/, '')))
    }
  }
  return [...out]
}

/** Measures every entry. Returns rows and the budget checks. */
export async function measureSizes({ log = console.log } = {}) {
  mkdirSync(WORK, { recursive: true })
  const rows = []
  let cache = {}
  try {
    cache = JSON.parse(readFileSync(CACHE, 'utf8'))
  } catch {
    // no cache yet
  }
  for (const e of ENTRIES) {
    const t0 = performance.now()
    // The peers' bundles change only with their entry, bench/package-lock.json or the tools: reuse
    // the last figures when none changed (bundling them takes minutes on a loaded machine).
    const key = e.pkg ? peerCacheKey(e) : undefined
    if (key && cache[e.id]?.key === key && !process.env.BENCH_NO_CACHE) {
      rows.push({ ...cache[e.id].row, cached: cache[e.id].at })
      log(`  ${e.id}: reused the figures bundled at ${cache[e.id].at} (same entry, lock and tools; BENCH_NO_CACHE=1 rebuilds)`)
      continue
    }
    const result = await bundle(path.join(HERE, 'entries', e.file), { external: e.external ?? [] })
    for (const c of result.chunks) writeFileSync(path.join(WORK, `${e.id}--${c.fileName}`), c.code)
    const version = e.pkg
      ? versionOf(e.pkg)
      : e.id.startsWith('floor')
        ? `oauth4webapi ${versionOf('oauth4webapi')}, idb-keyval ${versionOf('idb-keyval')}`
        : `${JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')).version} (dist/)`
    // Startup: the entry chunk and its static imports, plus the lazy chunks the app loads at start
    // anyway (with dpop: true, the DPoP chunk). With refresh: what the first request after a reload
    // with an expired token has loaded once the refresh chunk is in.
    const startupNames = new Set(result.initialNames)
    const startupRoleChunks = []
    for (const role of e.startupRoles ?? []) for (const n of result.roleChunks(role, startupNames)) startupRoleChunks.push(n)
    for (const n of startupRoleChunks) startupNames.add(n)
    const refreshNames = [...result.roleChunks('refresh', startupNames)]
    const pick = (names) => sum(result.sized.filter((c) => names.has(c.fileName)))
    rows.push({
      id: e.id,
      label: e.label,
      version,
      initial: result.initial,
      startup: pick(startupNames),
      startupChunks: [...startupNames],
      startupRoleChunks,
      startupPlusRefresh: pick(new Set([...startupNames, ...refreshNames])),
      refreshChunks: refreshNames,
      chunkList: result.sized.map(({ fileName, min, gzip, brotli, sources }) => ({ fileName, min, gzip, brotli, startup: startupNames.has(fileName), sources: sources.filter((x) => x.startsWith('src/')) })),
      total: result.total,
      chunks: result.chunkCount,
      lazyChunks: result.lazy.length,
      warnings: result.warnings,
      buildMs: Math.round(performance.now() - t0),
    })
    log(`  bundled ${e.id} in ${Math.round(performance.now() - t0)} ms (${result.chunkCount} chunk${result.chunkCount === 1 ? '' : 's'})`)
    if (key) {
      cache[e.id] = { key, at: new Date().toISOString(), row: rows.at(-1) }
      writeFileSync(CACHE, `${JSON.stringify(cache, null, 2)}\n`)
    }
  }
  const by = Object.fromEntries(rows.map((r) => [r.id, r]))
  const KB = 1024
  const core = by['oauth-spa']
  const dpop = by['oauth-spa-dpop']
  const react = by['oauth-spa-react']
  const budget = (name, value, limit, detail) => ({ name, value, limit: limit * KB, pass: value <= limit * KB, ...(detail ? { detail } : {}) })
  // Issue 18: gzip, rollup + terser, the four-step app entry. Brotli is reported beside, not budgeted.
  const budgets = [
    budget('without DPoP: startup chunk ≤ 7.5 KB', core.startup.gzip, 7.5),
    budget('without DPoP: total it can load ≤ 21 KB', core.total.gzip, 21),
    budget('without DPoP: startup + refresh chunk ≤ 14.5 KB', core.startupPlusRefresh.gzip, 14.5, core.refreshChunks.length ? undefined : 'no separate refresh chunk: the refresh code is in the startup chunk'),
    budget('dpop: true: startup chunk ≤ 15.5 KB', dpop.startup.gzip, 15.5),
    budget('dpop: true: total it can load ≤ 24 KB', dpop.total.gzip, 24),
    budget('React entry adds ≤ 1.5 KB gzip at startup over the core', react.startup.gzip - core.startup.gzip, 1.5),
  ]
  const floor = by.floor.total.gzip
  const floorDpop = by['floor-dpop'].total.gzip
  const context = { floor, floorDpop, dpopCost: floorDpop - floor, startupOverFloor: core.startup.gzip - floor }
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
