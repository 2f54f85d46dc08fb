// The oauth-spa bench page as an app ships it: its module (pages/peers/oauth-spa.js) bundled with
// the SDK's dist/ by the same rollup + terser set-up as the size figures (bench/size/measure.mjs),
// code split as a bundler splits it: the page loads one chunk (its code and the SDK's core) and the
// SDK's other chunks (sign-in and callback, refresh, DPoP, …) load on first need. The chunks are
// served from memory under /peers/, in place of the page's source module.
//
// BENCH_OAUTH_SPA_BUILD=standalone keeps the page on dist/oauth-spa.standalone.min.js (one file
// with every part), as it was measured before.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { bundle } from '../size/measure.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(HERE, '..', '..')
const PAGE = path.join(HERE, 'pages', 'peers', 'oauth-spa.js')
const STANDALONE = '/dist/oauth-spa.standalone.min.js'

/** Which build of oauth-spa the bench page runs: `split` (default, as bundled by an app) or `standalone`. */
export const OAUTH_SPA_BUILD = process.env.BENCH_OAUTH_SPA_BUILD === 'standalone' ? 'standalone' : 'split'

/**
 * Bundles the oauth-spa page and returns static-server routes for its chunks (`{}` with the
 * standalone build). `/peers/common.js`, shared by every SDK's page, stays a separate module.
 */
export async function oauthSpaPageRoutes() {
  if (OAUTH_SPA_BUILD === 'standalone') return {}
  const toDist = {
    name: 'bench-page-to-dist',
    resolveId(id) {
      if (id === STANDALONE) return path.join(REPO, 'dist', 'index.js')
      if (id === '/peers/common.js') return { id, external: true }
      return null
    },
  }
  const result = await bundle(PAGE, { plugins: [toDist] })
  const routes = {}
  for (const chunk of result.chunks) {
    const body = chunk.code
    routes[`/peers/${chunk.fileName}`] = () => ({ status: 200, headers: { 'Content-Type': 'text/javascript; charset=utf-8' }, body })
  }
  if (!routes['/peers/oauth-spa.js']) throw new Error(`the bench page bundle has no oauth-spa.js entry chunk: ${Object.keys(routes).join(', ')}`)
  // The page without its preload of the standalone file: its own module (the entry chunk) is the
  // SDK now, requested with the page.
  const html = readFileSync(PAGE.replace(/\.js$/, '.html'), 'utf8')
  const page = html.replace(/<!--[^]*?-->\n<link rel="modulepreload" href="\/dist\/oauth-spa\.standalone\.min\.js">\n/, '')
  if (page === html) throw new Error('pages/peers/oauth-spa.html: the standalone preload to drop was not found')
  routes['/peers/oauth-spa.html'] = () => ({ status: 200, headers: { 'Content-Type': 'text/html; charset=utf-8' }, body: page })
  return routes
}
