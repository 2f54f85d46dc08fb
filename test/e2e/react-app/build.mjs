// Builds the React e2e page (test/e2e/react-app) from the repo: main.jsx + react + react-dom/client
// + the SDK's built entries (dist/index.js as 'oauth-spa', dist/react.js as 'oauth-spa/react', so
// both share dist's core chunk, as in an app that installed the package; the SDK's lazily loaded
// parts become chunks of their own), into <outDir>/main.js,
// next to a copy of index.html. Rollup's own JSX transform (jsx: 'react-jsx'), no Babel.
//
//   import { buildReactApp } from './react-app/build.mjs'
//   const { dir, ms } = await buildReactApp({ outDir })        // from a test's worker fixture
//   node test/e2e/react-app/build.mjs [outDir] [--production] [--minify]   // by hand
//
// React's mode: 'development' by default, because <StrictMode> double-runs effects only there;
// in a production build StrictMode is a no-op and "the callback is redeemed once under
// StrictMode" would hold trivially. `mode: 'production'` builds the shipping variant.
//
// Needs `npm run build` first (dist/index.js, dist/react.js); it does not rebuild dist itself.
import { existsSync } from 'node:fs'
import { copyFile, mkdir, rm } from 'node:fs/promises'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

import commonjs from '@rollup/plugin-commonjs'
import resolve from '@rollup/plugin-node-resolve'
import replace from '@rollup/plugin-replace'
import terser from '@rollup/plugin-terser'
import { rollup } from 'rollup'

const HERE = path.dirname(fileURLToPath(import.meta.url))
export const REPO_ROOT = path.resolve(HERE, '..', '..', '..')
export const DIST = path.join(REPO_ROOT, 'dist')
export const SDK_ENTRIES = {
  'oauth-spa': path.join(DIST, 'index.js'),
  'oauth-spa/react': path.join(DIST, 'react.js'),
}

/** Maps the package's own specifiers to the built entries in dist/ (what an installed package resolves to). */
function sdkFromDist() {
  return {
    name: 'oauth-spa-from-dist',
    resolveId(source) {
      return Object.hasOwn(SDK_ENTRIES, source) ? SDK_ENTRIES[source] : null
    },
  }
}

/**
 * @param {object} options
 * @param {string} options.outDir folder to (re)create with index.html and main.js
 * @param {'development' | 'production'} [options.mode='development']
 * @param {boolean} [options.minify=false]
 * @returns {Promise<{ dir: string, mode: string, ms: number, bytes: number, modules: string[] }>}
 */
export async function buildReactApp({ outDir, mode = 'development', minify = false } = {}) {
  if (!outDir) throw new TypeError('buildReactApp: outDir is required')
  for (const file of Object.values(SDK_ENTRIES)) {
    if (!existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first`)
  }
  const started = performance.now()
  const dir = path.resolve(outDir)
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })

  const warnings = []
  const bundle = await rollup({
    input: path.join(HERE, 'main.jsx'),
    jsx: { preset: 'react-jsx' },
    onwarn(warning) {
      warnings.push(warning)
    },
    plugins: [
      sdkFromDist(),
      replace({ preventAssignment: true, values: { 'process.env.NODE_ENV': JSON.stringify(mode) } }),
      resolve({ browser: true, extensions: ['.mjs', '.js', '.jsx', '.json'] }),
      commonjs(),
      ...(minify ? [terser({ format: { comments: false }, module: true })] : []),
    ],
  })
  let output
  try {
    ;({ output } = await bundle.write({ dir, format: 'es', entryFileNames: 'main.js', chunkFileNames: '[name]-[hash].js', sourcemap: true }))
  } finally {
    await bundle.close()
  }
  await copyFile(path.join(HERE, 'index.html'), path.join(dir, 'index.html'))

  // A bundle that still mentions `process.env` or a bare import would fail in the browser.
  // (Imports of the build's own chunks are fine: the SDK's parts loaded on first need.)
  const chunks = output.filter((o) => o.type === 'chunk')
  const own = new Set(chunks.map((c) => c.fileName))
  for (const chunk of chunks) {
    const foreign = [...chunk.imports, ...chunk.dynamicImports].filter((i) => !own.has(i))
    if (foreign.length) throw new Error(`react-app build: ${chunk.fileName} still imports ${foreign.join(', ')}`)
  }
  const relevant = warnings.filter((w) => w.code !== 'MODULE_LEVEL_DIRECTIVE' && w.code !== 'SOURCEMAP_ERROR')
  if (relevant.length) {
    throw new Error(`react-app build warnings:\n${relevant.map((w) => `${w.code}: ${w.message}`).join('\n')}`)
  }
  const main = chunks.find((c) => c.fileName === 'main.js')
  return {
    dir,
    mode,
    ms: Math.round(performance.now() - started),
    bytes: chunks.reduce((n, c) => n + Buffer.byteLength(c.code), 0),
    modules: Object.keys(main.modules),
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2)
  const outDir = args.find((a) => !a.startsWith('--')) ?? path.join(REPO_ROOT, 'test-results', 'react-app')
  const result = await buildReactApp({
    outDir,
    mode: args.includes('--production') ? 'production' : 'development',
    minify: args.includes('--minify'),
  })
  const sdk = result.modules.filter((m) => m.startsWith(DIST)).map((m) => path.relative(REPO_ROOT, m))
  console.log(`react-app: ${result.mode} build in ${result.ms} ms, ${(result.bytes / 1024).toFixed(1)} KB, ${result.modules.length} modules (SDK: ${sdk.join(', ')}) → ${path.relative(process.cwd(), result.dir) || '.'}`)
}
