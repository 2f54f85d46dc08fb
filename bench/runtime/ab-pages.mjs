// Two builds of oauth-spa side by side, interleaved, in the same run: copies pages/ to OUT with a
// second adapter, `oauth-spa-base`, that loads BUILD (a saved oauth-spa.standalone.min.js, e.g. of
// main) from /dist/base/, and copies BUILD there (dist/ is rebuilt by rollup: run this after it).
//
//   node bench/runtime/ab-pages.mjs /tmp/base/oauth-spa.standalone.min.js /tmp/ab-pages
//   BENCH_PAGES=/tmp/ab-pages BENCH_SDKS=oauth-spa,oauth-spa-base,oidc-client-ts,auth0-spa-js node bench/runtime/phases.mjs cold 15
//   BENCH_PAGES=/tmp/ab-pages BENCH_SDKS=oauth-spa,oauth-spa-base,oidc-client-ts,auth0-spa-js node bench/run.mjs --only=peers
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const [build, out] = process.argv.slice(2)
if (!build || !out) throw new Error('usage: node bench/runtime/ab-pages.mjs <base oauth-spa.standalone.min.js> <out dir>')
cpSync(path.join(HERE, 'pages'), out, { recursive: true })
const peers = path.join(out, 'peers')
const rewrite = (text) =>
  text
    .replaceAll('/dist/oauth-spa.standalone.min.js', '/dist/base/oauth-spa.standalone.min.js')
    .replaceAll('/peers/oauth-spa.html', '/peers/oauth-spa-base.html')
    .replaceAll('/peers/oauth-spa.js', '/peers/oauth-spa-base.js')
    .replaceAll("name: 'oauth-spa'", "name: 'oauth-spa-base'")
for (const ext of ['html', 'js']) writeFileSync(path.join(peers, `oauth-spa-base.${ext}`), rewrite(readFileSync(path.join(peers, `oauth-spa.${ext}`), 'utf8')))
const dist = path.resolve(HERE, '..', '..', 'dist', 'base')
mkdirSync(dist, { recursive: true })
cpSync(build, path.join(dist, 'oauth-spa.standalone.min.js'))
console.log(`${out}: pages with oauth-spa-base (${build}, served as /dist/base/oauth-spa.standalone.min.js)`)
