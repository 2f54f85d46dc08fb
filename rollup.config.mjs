// Builds dist/: the ESM entries for bundlers (dependencies external), a standalone minified ESM
// bundle with the dependencies inlined (for <script type="module"> or a CDN), and bundled .d.ts.
// No source maps: they would point at src/, which the package does not ship (test/package checks).
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { gzipSync, brotliCompressSync } from 'node:zlib'
import typescript from '@rollup/plugin-typescript'
import resolve from '@rollup/plugin-node-resolve'
import terser from '@rollup/plugin-terser'
import { dts } from 'rollup-plugin-dts'

// A clean dist/: chunk names carry hashes, and stale chunks would otherwise ship with the package.
rmSync('dist', { recursive: true, force: true })

const hasReact = existsSync('src/react/index.ts')
// testing: Node-side helpers for an app's e2e tests (oauth-spa/testing); it loads the shipped
// dev-provider/ at run time and shares no code with the browser entries.
const input = { index: 'src/index.ts', ...(hasReact ? { react: 'src/react/index.ts' } : {}), testing: 'src/testing/index.ts' }
const external = [/^oauth4webapi/, /^idb-keyval/, /^react(\/|$)/, /^react-dom(\/|$)/]
const ts = () => typescript({ tsconfig: './tsconfig.json', declaration: false, declarationMap: false, include: ['src/**/*'] })

/** Prints the minified, gzip and brotli size of an emitted file. */
function reportSize() {
  return {
    name: 'report-size',
    writeBundle(options, bundle) {
      for (const [name, chunk] of Object.entries(bundle)) {
        if (chunk.type !== 'chunk') continue
        const code = readFileSync(`${options.dir ?? 'dist'}/${name}`)
        const kb = (n) => `${(n / 1024).toFixed(2)} KB`
        console.log(`size ${name}: ${kb(code.length)} min, ${kb(gzipSync(code, { level: 9 }).length)} gzip, ${kb(brotliCompressSync(code).length)} brotli`)
      }
    },
  }
}

export default [
  {
    input,
    external,
    // Parts loaded on first need (protocol, flows, the IndexedDB lease) are chunks of their own.
    output: { dir: 'dist', format: 'es', entryFileNames: '[name].js', chunkFileNames: '[name]-[hash].js', sourcemap: false },
    plugins: [ts()],
  },
  {
    input: { 'oauth-spa.standalone.min': 'src/index.ts' },
    // One file for a <script type="module"> or a CDN: the lazily loaded parts are inlined.
    output: { dir: 'dist', format: 'es', entryFileNames: '[name].js', sourcemap: false, inlineDynamicImports: true },
    plugins: [resolve({ browser: true }), ts(), terser({ format: { comments: false }, ecma: 2020, module: true }), reportSize()],
  },
  {
    input,
    external,
    output: { dir: 'dist', format: 'es', entryFileNames: '[name].d.ts', chunkFileNames: 'shared-[hash].d.ts' },
    plugins: [dts({ tsconfig: './tsconfig.json' })],
  },
]
