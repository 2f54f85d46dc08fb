// Where the time of one side-by-side figure goes, per SDK: `node bench/runtime/phases.mjs [callback|reload|cold] [N]`
// (dist/ built, bench dependencies installed). N measurements per SDK (default 10), the SDKs
// interleaved, each page instrumented (phases-instrument.js: IndexedDB, Web Locks, fetch, timers)
// and cut into: page fetch → script start (download and compile, the page's modules), script
// start → ready (the SDK), and for the callback: → token request, the token request, token
// response → ready, the wait for the first Web Lock; with counts of IndexedDB transactions and
// discovery requests. A diagnosis tool: its pages run wrapped globals, so its totals are not the
// figures of run.mjs. BENCH_SDKS picks the SDKs; BENCH_PAGES serves another copy of pages/ (e.g.
// with one adapter per build of the SDK, to compare two builds side by side).
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'
import { CHROMIUM_ARGS } from '../../test/e2e/browser.mjs'
import { quantile } from '../lib.mjs'
import { CLOCK_SKEW_INIT, readyTiming, SDKS, signIn, startPeerStack } from './peers.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const INSTRUMENT = readFileSync(path.join(HERE, 'phases-instrument.js'), 'utf8')
const phase = process.argv[2] ?? 'callback'
const N = Number(process.argv[3] ?? 10)
if (!['callback', 'reload', 'cold'].includes(phase) || !(N > 0)) throw new Error('usage: node bench/runtime/phases.mjs [callback|reload|cold] [N]')

async function newPage(browser, stack, sdk) {
  const context = await browser.newContext()
  await context.addInitScript(CLOCK_SKEW_INIT)
  await context.addInitScript(INSTRUMENT)
  const page = await context.newPage()
  await page.goto(`${stack.app.origin}/peers/${sdk}.html`)
  await readyTiming(page)
  return page
}

async function measure(page) {
  const t = await readyTiming(page)
  const ev = await page.evaluate(() => {
    const start = performance.getEntriesByType('navigation')[0].fetchStart
    return window.__ev.map(([at, kind, detail]) => [at - start, kind, String(detail)])
  })
  const scriptStart = t.scriptStart - t.fetchStart
  const token = ev.find((e) => e[1] === 'fetch' && /\/(oauth\/)?token$/.test(e[2]))
  const tokenDone = ev.find((e) => e[1] === 'fetch.done' && /\/(oauth\/)?token /.test(e[2]))
  const lock = ev.find((e) => e[1] === 'lock.got')
  return {
    total: t.ms,
    scriptStart,
    sdk: t.ready - t.scriptStart,
    toToken: token ? token[0] - scriptStart : undefined,
    token: token && tokenDone ? tokenDone[0] - token[0] : undefined,
    afterToken: tokenDone ? t.ms - tokenDone[0] : undefined,
    lockWait: lock ? parseFloat(lock[2].split(' ').pop()) : undefined,
    idbTransactions: ev.filter((e) => e[1] === 'idb.tx').length,
    discovery: ev.filter((e) => e[1] === 'fetch' && e[2].includes('/.well-known/')).length,
    status: t.status,
  }
}

const stack = await startPeerStack(process.env.BENCH_PAGES ? { root: path.resolve(process.env.BENCH_PAGES) } : {})
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium', headless: true, args: CHROMIUM_ARGS })
const out = Object.fromEntries(SDKS.map((s) => [s, []]))
const load = () => (readFileSync('/proc/loadavg', 'utf8').split(' ')[0] ?? '?')
const loadBefore = load()
try {
  const pages = {}
  for (const sdk of SDKS) {
    pages[sdk] = await newPage(browser, stack, sdk)
    if (phase === 'reload') await signIn(pages[sdk], stack)
  }
  for (let i = 0; i < N; i++) {
    for (const sdk of SDKS.map((_, j) => SDKS[(i + j) % SDKS.length])) {
      if (phase === 'callback') await signIn(pages[sdk], stack)
      else if (phase === 'reload') await pages[sdk].reload()
      else {
        await pages[sdk].context().close()
        pages[sdk] = await newPage(browser, stack, sdk)
      }
      out[sdk].push(await measure(pages[sdk]))
    }
  }
} finally {
  await browser.close()
  await stack.close()
}
const fmt = (values) => {
  const v = values.filter((x) => x !== undefined)
  return v.length ? `${quantile(v, 0.5).toFixed(1)} (${quantile(v, 0.25).toFixed(0)}–${quantile(v, 0.75).toFixed(0)})` : '–'
}
console.log(`${phase}: ${N} per SDK, interleaved, instrumented pages; ms, median (p25–p75); load average ${loadBefore} before, ${load()} after`)
for (const [sdk, rows] of Object.entries(out)) {
  const col = (k) => fmt(rows.map((r) => r[k]))
  const parts = [`total ${col('total')}`, `page fetch → script start ${col('scriptStart')}`, `script start → ready ${col('sdk')}`]
  if (phase === 'callback') parts.push(`→ token request ${col('toToken')}`, `token request ${col('token')}`, `token response → ready ${col('afterToken')}`, `first Web Lock wait ${col('lockWait')}`, `discovery requests ${fmt(rows.map((r) => r.discovery))}`)
  parts.push(`IndexedDB transactions ${fmt(rows.map((r) => r.idbTransactions))}`, `status ${[...new Set(rows.map((r) => r.status))].join(', ')}`)
  console.log(`- ${sdk}: ${parts.join('; ')}`)
}
