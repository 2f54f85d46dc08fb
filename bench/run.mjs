#!/usr/bin/env node
// `npm run bench` (after `npm run build`): bytes shipped beside the peer SDKs, then the runtime
// figures in headless Chromium. Prints Markdown tables and writes bench/results/latest.{json,md}.
//
//   node bench/run.mjs              bytes + runtime side by side with the peers (~10 min on a loaded 2-core machine)
//   node bench/run.mjs --all        plus the oauth-spa-only runtime sections 3–7 (another 7+ min)
//   node bench/run.mjs --breakdown  plus where the core's bytes come from (rebuilds from src/)
//   node bench/run.mjs --only=size  or --only=runtime (side by side + 3–7) or --only=peers
//   node bench/run.mjs --quick      few repetitions, to check the harness (results not written)
//   node bench/run.mjs --strict     exit 1 when a budget or goal fails
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { bytesAndKb, gitCommit, kb, mdTable, nodeEnvironment, num, passFail } from './lib.mjs'
import { runBrowserBench } from './runtime/browser.mjs'
import { runPeerBench, SDKS } from './runtime/peers.mjs'
import { breakdown } from './size/breakdown.mjs'
import { measureSizes } from './size/measure.mjs'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const REPO = path.resolve(HERE, '..')
const RESULTS = path.join(HERE, 'results')

// The peer SDKs are bench-only dependencies (bench/package.json, its own lock), kept out of the
// SDK's install; rollup's node-resolve finds them in bench/node_modules from bench/size/entries/.
const PEERS = ['@auth0/auth0-spa-js', '@azure/msal-browser', '@okta/okta-auth-js', 'oidc-client-ts']
const missingPeers = PEERS.filter((p) => !existsSync(path.join(HERE, 'node_modules', p, 'package.json')))
if (missingPeers.length) {
  console.error(`bench: ${missingPeers.join(', ')} not installed in bench/node_modules.\nRun \`npm ci --prefix bench --ignore-scripts\` (or \`npm run bench\`, which does it).`)
  process.exit(1)
}

const args = new Set(process.argv.slice(2))
const only = [...args].find((a) => a.startsWith('--only='))?.slice('--only='.length)
const quick = args.has('--quick')
const strict = args.has('--strict')
// The per-file attribution rebuilds from src/ with TypeScript: minutes on a loaded machine, so on request.
const withBreakdown = args.has('--breakdown')
// The oauth-spa-only runtime sections (3–7) take another 7 minutes or more on a loaded 2-core machine.
const all = args.has('--all')
const write = !quick && !args.has('--no-write') && !only

const AUTH0_NOTE =
  '@auth0/auth0-spa-js is pinned to 2.27.0: 2.28.3 depends on @auth0/auth0-auth-js@^1.16.1, which the registry does not serve (latest there: 1.16.0).'
const NOISE_NOTE =
  'Absolute times are noisy on this shared machine (2 vCPUs shared by Chromium, the provider, the API and this runner); the ratios and differences are what to compare, and each is measured in the same run, interleaved.'

const out = []
const say = (line = '') => {
  console.log(line)
  out.push(line)
}
const progress = (line) => console.log(line)

function sizeSection(size, core, floorBreakdown) {
  say('## 1. Bytes shipped')
  say()
  say(`Same four steps for every SDK (create the client, start login, handle the callback, get an access token), bundled by rollup ${size.tool.rollup} + @rollup/plugin-node-resolve ${size.tool['@rollup/plugin-node-resolve']} (browser) + @rollup/plugin-commonjs ${size.tool['@rollup/plugin-commonjs']} + replace(process.env.NODE_ENV="production") + terser ${size.tool.terser} (${JSON.stringify(size.tool.terserOptions)}); gzip level 9, brotli quality 11. Entries: bench/size/entries/.`)
  say()
  const base = size.rows.find((r) => r.id === 'oauth-spa')
  const apps = size.rows.filter((r) => r.id.startsWith('oauth-spa'))
  say('The apps of issue 18. **Startup** = the entry chunk and its static imports (with `dpop: true`, plus the DPoP chunk: the first request needs a proof); **total** = every chunk the app can load, dynamic imports included; **+ refresh** = startup plus the chunk the first request after a reload with an expired token waits for. Each chunk is compressed on its own, as it is downloaded.')
  say()
  say(
    mdTable(
      ['App', 'chunks', 'startup gzip', 'startup brotli', '+ refresh gzip', 'total gzip', 'total brotli', 'startup min', 'total min'],
      apps.map((r) => [r.label, r.chunks, num(r.startup.gzip), num(r.startup.brotli), r.refreshChunks.length ? num(r.startupPlusRefresh.gzip) : '(no refresh chunk)', num(r.total.gzip), num(r.total.brotli), num(r.startup.min), num(r.total.min)]),
      ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  )
  say()
  say('Budgets of issue 18 (gzip):')
  say()
  say(
    mdTable(
      ['Budget', 'Measured', 'Limit', 'Result'],
      size.budgets.map((b) => [b.name + (b.detail ? ` (${b.detail})` : ''), bytesAndKb(b.value), bytesAndKb(Math.round(b.limit)), passFail(b.pass)]),
      ['l', 'r', 'r', 'l'],
    ),
  )
  say()
  say('The peers beside them, doing the same four steps (a single chunk each unless noted, so startup = total), and the floor (the four steps written directly on oauth4webapi + idb-keyval):')
  say()
  say(
    mdTable(
      ['Entry', 'Version', 'min', 'gzip', 'brotli', 'startup gzip vs oauth-spa'],
      size.rows.filter((r) => !r.id.startsWith('oauth-spa') || r.id === 'oauth-spa').map((r) => [
        r.label,
        r.version,
        num(r.total.min),
        num(r.total.gzip),
        num(r.total.brotli),
        r.id === 'oauth-spa' ? '1.00×' : `${num(r.startup.gzip / base.startup.gzip, 2)}×`,
      ]),
      ['l', 'l', 'r', 'r', 'r', 'r'],
    ),
  )
  say()
  say(AUTH0_NOTE)
  const cached = size.rows.filter((r) => r.cached)
  if (cached.length) say(`Reused from an earlier bundling with the same entry, bench/package-lock.json and tools (bench/.work/size/peer-sizes.json; \`BENCH_NO_CACHE=1\` rebuilds): ${cached.map((r) => `${r.label} (${r.cached})`).join(', ')}.`)
  for (const r of size.rows.filter((x) => x.chunks > 1)) say(`${r.label}: ${r.chunks} chunks; startup ${r.startupChunks.join(', ')}${r.refreshChunks.length ? `; refresh ${r.refreshChunks.join(', ')}` : ''}.`)
  say()
  const c = size.context
  say(`Floor ${num(c.floor)} B gzip, floor with DPoP ${num(c.floorDpop)} B gzip (DPoP alone ${num(c.dpopCost)} B); the oauth-spa startup chunk without DPoP is ${num(c.startupOverFloor)} B gzip over the floor.`)
  say()
  if (!core) {
    say('(Where the bytes come from, per source file and per oauth4webapi declaration: `node bench/run.mjs --only=size --breakdown`.)')
    say()
    return {}
  }
  say(`Where the core entry's bytes come from (${core.note}; bundle ${num(core.bundle.min)} B min / ${num(core.bundle.gzip)} B gzip):`)
  say()
  say(mdTable(['Package', 'min', 'gzip (est.)', 'share'], core.groups.map((g) => [g.group, num(g.min), num(g.gzipEstimate), `${num((100 * g.min) / core.bundle.min, 1)}%`]), ['l', 'r', 'r', 'r']))
  say()
  say(`String literals (error messages, mostly) in the minified bundle: ${num(core.stringLiteralBytes)} B of ${num(core.bundle.min)} B in the core, ${num(floorBreakdown.stringLiteralBytes)} B of ${num(floorBreakdown.bundle.min)} B in the floor with DPoP.`)
  say()
  say(mdTable(['Source file (top 15)', 'min', 'gzip (est.)'], core.files.slice(0, 15).map((f) => [f.file, num(f.min), num(f.gzipEstimate)]), ['l', 'r', 'r']))
  say()
  const inFloor = new Map(floorBreakdown.oauth4webapi.map((d) => [d.name, d.min]))
  const extra = core.oauth4webapi.map((d) => ({ ...d, extra: d.min - (inFloor.get(d.name) ?? 0) })).filter((d) => d.extra > 0)
  const extraSum = extra.reduce((a, d) => a + d.extra, 0)
  const o4wCore = core.groups.find((g) => g.group === 'oauth4webapi')?.min ?? 0
  const o4wFloor = floorBreakdown.groups.find((g) => g.group === 'oauth4webapi')?.min ?? 0
  say(`oauth4webapi in the core: ${num(o4wCore)} B min, in the floor with DPoP: ${num(o4wFloor)} B min. Its declarations the core pulls in beyond the floor with DPoP (top 12 of ${extra.length}, ${num(extraSum)} B min in all):`)
  say()
  say(mdTable(['oauth4webapi declaration', 'min beyond floor with DPoP', 'gzip (est.)'], extra.sort((a, b) => b.extra - a.extra).slice(0, 12).map((d) => [d.name, num(d.extra), num(Math.round((d.extra / core.bundle.min) * core.bundle.gzip))]), ['l', 'r', 'r']))
  say()
  return { extraBeyondFloor: extra }
}

function runtimeSections(rt) {
  const env = rt.environment
  say(`Chromium ${env.chromium} headless (${env.executablePath}; ${env.args.join(' ')}; ${env.profile}), playwright-core ${env.playwrightCore}. Provider, API and static server from demo/server on 127.0.0.1; a real sign-in through the provider's form.`)
  for (const n of rt.notes ?? []) say(`Note: ${n}.`)
  say()

  const h = rt.hotPath
  say('## 3. Hot token path (oauth-spa)')
  say()
  say(`\`await auth.getAccessToken()\` with a valid cached token, against \`await Promise.resolve(map.get(key))\` and a bare \`map.get(key)\` of the same string, in the same page: ${h.rounds} interleaved rounds of ${num(h.callsPerRound.getAccessToken)} calls per variant (bare Map.get: ${num(h.callsPerRound.mapGet)} per round, for timer resolution); medians.`)
  say()
  const g = h.medianOpsPerSecond.getAccessToken
  say(
    mdTable(
      ['Call', 'median calls/s', 'ns/call', 'getAccessToken speed ÷ this'],
      [
        ['await auth.getAccessToken()', num(g), num(1e9 / g, 0), '1.00'],
        ['await Promise.resolve(map.get(key))', num(h.medianOpsPerSecond.promiseMapGet), num(1e9 / h.medianOpsPerSecond.promiseMapGet, 0), num(h.ratioVsPromiseMapGet, 3)],
        ['map.get(key)', num(h.medianOpsPerSecond.mapGet), num(1e9 / h.medianOpsPerSecond.mapGet, 1), num(h.ratioVsMapGet, 4)],
      ],
      ['l', 'r', 'r', 'r'],
    ),
  )
  say()
  const providerCalls = Object.values(h.providerRequestsDuring).reduce((a, b) => a + b, 0)
  say(`Ratios are medians of per-round ratios. Same token throughout: ${h.sameTokenThroughout ? 'yes' : 'NO'}; provider requests during the loops: ${providerCalls}.`)
  say()

  const f = rt.fetchOverhead
  say('## 4. Fetch wrapper overhead (oauth-spa)')
  say()
  say(`${num(f.requests.authFetch)} sequential GET /api/me via \`auth.fetch\` and ${num(f.requests.plainFetch)} via plain \`fetch\` with the same \`Authorization: Bearer …\` header set by hand, in ${f.rounds} rounds of ${f.perRound} each, interleaved request by request (A B, B A, …); every body read. A round's figure is its mean time per request; the ratio is the median over the rounds of auth.fetch ÷ fetch.`)
  say()
  say(
    mdTable(
      ['Variant', 'requests', 'median of round means, ms/request', 'median request, ms'],
      [
        ['auth.fetch', num(f.requests.authFetch), num(f.medianMsPerRequest.authFetch, 3), num(f.medianOfAllRequestsMs.authFetch, 2)],
        ['fetch + header by hand', num(f.requests.plainFetch), num(f.medianMsPerRequest.plainFetch, 3), num(f.medianOfAllRequestsMs.plainFetch, 2)],
      ],
      ['l', 'r', 'r', 'r'],
    ),
  )
  say()
  say(`Ratio auth.fetch ÷ fetch (median of per-round ratios): **${num(f.ratio, 3)}** (p25 ${num(f.roundRatioP25, 3)}, p75 ${num(f.roundRatioP75, 3)}; ratio of medians ${num(f.ratioOfMedians, 3)}; ratio of totals ${num(f.ratioOfTotals, 3)}). Goal ≤ 1.05: **${passFail(f.pass)}**. Statuses: ${Object.entries(f.statuses).map(([k, v]) => `${k} ×${v}`).join(', ')}; refresh grants during the run: ${f.refreshGrantsDuring}.`)
  say()
  const w = f.wrapperCpu
  if (w) {
    say(
      w.throughStub
        ? `What the wrapper itself costs, network taken out (\`window.fetch\` replaced by a stub answering at once; ${w.rounds} interleaved rounds × ${num(w.calls)} calls): auth.fetch ${num(w.medianUsPerCall.authFetch, 1)} µs/call, the stub called with the header by hand ${num(w.medianUsPerCall.plainFetch, 1)} µs/call: **${num(w.medianUsAdded, 1)} µs added per request**, ${num((100 * w.medianUsAdded) / 1000 / f.medianMsPerRequest.plainFetch, 1)}% of the median plain request above.`
        : 'The wrapper CPU figure could not be taken: auth.fetch did not go through the stubbed window.fetch.',
    )
    say()
  }

  const c = rt.coldStart
  say('## 5. Cold start against idb-keyval (oauth-spa)')
  say()
  say(`Page load (from navigation start) with a persisted session until \`getSnapshot().status === 'authenticated'\` (via subscribe), against the same page that only reads one value with idb-keyval; ${c.loads} loads each, interleaved, after warm-up loads; no HTTP cache (no-store). The issue names 20 loads; on this machine the p25–p75 spread of 20 loads is wider than the 5 ms goal, so the bench takes ${c.loads} and reports the same statistics.`)
  say()
  say(
    mdTable(
      ['Page', 'loads', 'median ms', 'p25', 'p75', 'median script start ms', 'median ms after script start'],
      [
        ['oauth-spa: status authenticated', c.loads, num(c.medianMs.sdk, 1), num(c.p25Ms.sdk, 1), num(c.p75Ms.sdk, 1), num(c.medianScriptStartMs.sdk, 1), num(c.medianAfterScriptStartMs.sdk, 1)],
        ['idb-keyval: one value read', c.loads, num(c.medianMs.idb, 1), num(c.p25Ms.idb, 1), num(c.p75Ms.idb, 1), num(c.medianScriptStartMs.idb, 1), num(c.medianAfterScriptStartMs.idb, 1)],
      ],
      ['l', 'r', 'r', 'r', 'r', 'r', 'r'],
    ),
  )
  say()
  say(`Difference of medians: **${num(c.differenceMs, 1)} ms** (median of paired differences ${num(c.medianPairDifferenceMs, 1)} ms). Goal < 5 ms: **${passFail(c.pass)}**.${c.unexpectedStatuses ? ` ${c.unexpectedStatuses} loads ended in an unexpected state.` : ''}`)
  say()

  const k = rt.coalescing
  say('## 6. Refresh coalescing (oauth-spa)')
  say()
  say(`Pages open the client with refreshLeewaySeconds = TTL − ${k.freshSeconds} s, so a token is due ${k.freshSeconds} s after each refresh; after that wait, the calls start together at one wall-clock instant. Single refresh = \`getAccessToken({ forceRefresh: true })\` alone, median of ${k.singleRefreshRaw.length}: **${num(k.singleRefreshMedianMs, 1)} ms**. References, right after with the token fresh: the same requests through plain fetch (token set by hand) and through auth.fetch (no refresh needed). Every burst starts with the API's CORS preflight cached.`)
  say()
  say(
    mdTable(
      ['Scenario', 'reps', 'refresh grants at the provider, per rep', 'refresh done after ms', 'all resolved after ms', 'wall ÷ single refresh', 'ref.: plain fetch ms', 'ref.: auth.fetch, fresh token ms', 'Result'],
      [k.oneTab, k.fourTabs].map((s) => [
        s.label,
        s.reps,
        s.refreshGrantsPerRep.join(', '),
        num(s.medianRefreshDoneMs, 1),
        num(s.medianWallMs, 1),
        `${num(s.medianWallMs / k.singleRefreshMedianMs, 1)}×`,
        num(s.medianPlainWallMs, 1),
        num(s.medianFreshWallMs, 1),
        `${passFail(s.pass)}${s.api401 ? ` (${s.api401} API 401s)` : ''}`,
      ]),
      ['l', 'r', 'l', 'r', 'r', 'r', 'r', 'r', 'l'],
    ),
  )
  say()
  say(`Medians over the reps. PASS = exactly one refresh grant at the provider in every rep and all ${k.oneTab.calls} calls answered 200. "Refresh done after" is when the tab that refreshed emitted \`token_refreshed\`, from the start of the burst. Most of the wall time is the local API answering ${k.oneTab.calls} requests at once (see the plain-fetch reference).${k.oneTab.refreshDuringReference || k.fourTabs.refreshDuringReference ? ' Warning: a reference burst refreshed too; its figure includes a refresh.' : ''}`)
  say()

  const m = rt.memory
  say('## 7. Memory (oauth-spa)')
  say()
  say(`One page, requests to ${m.endpoint}; JS heap measured by ${m.method}, before and after each phase; plain-fetch loops are the noise reference; ${rt.plan.memory.concurrency} requests in flight. The SDK phases run twice: growth that comes back when the same work is repeated is a leak, growth that does not is one-time (code compiled and caches filled on first use).`)
  say()
  say(
    mdTable(
      ['Phase', 'calls', 'heap before', 'heap after', 'growth', 'per call', 'beyond noise', 'ms'],
      m.phases.map((p) => [p.name, num(p.calls), kb(p.before), kb(p.after), `${num(p.growth / 1024, 1)} KB`, `${num(p.growth / p.calls, 1)} B`, p.name.startsWith('plain') ? '(reference)' : p.beyondNoise ? 'YES' : 'no', num(p.ms)]),
      ['l', 'r', 'r', 'r', 'r', 'r', 'l', 'r'],
    ),
  )
  say()
  const verdict = m.leak ? 'GROWTH THAT REPEATS: likely a leak' : m.oneTimeGrowth ? 'one-time growth on first use, none when repeated: no leak' : 'no growth beyond noise'
  say(`Growth after ${num(rt.plan.memory.fetches)} auth.fetch + ${rt.plan.memory.refreshes} refresh cycles: ${num(m.growthAfterFetchesAndRefreshes / 1024, 1)} KB; when repeated: ${num(m.growthRepeated / 1024, 1)} KB. Noise = largest |growth| of the reference loops or of two idle measurements: ${num(m.noise / 1024, 1)} KB; "beyond noise" = growth above 3 × noise + 32 KB = ${num(m.threshold / 1024, 1)} KB. Result: **${verdict}** (${passFail(m.pass)}).`)
  say()
}

function peersSection(pr, loadNote) {
  const s = pr.summary
  const peers = SDKS.filter((x) => x !== 'oauth-spa')
  say('## 2. Side by side with the peers at runtime')
  say()
  say(`oauth-spa ${s['oauth-spa'].version}, ${peers.map((p) => `${p} ${s[p].version}`).join(', ')}, each driven through its public API by a small page (bench/runtime/pages/peers/; oauth-spa's bundled with dist/index.js as an app ships it, code split: ${pr.oauthSpaBuild === 'standalone' ? 'no, the standalone file (BENCH_OAUTH_SPA_BUILD=standalone)' : 'the core at start, the rest on first need'}), against the same bundled provider (issuer \`http://127.0.0.1:<port>/\`, Auth0's /authorize and /oauth/token mapped onto its endpoints), the same API and the same Chromium (${pr.chromium}, flags of test/e2e/browser.mjs); per repetition each SDK gets a fresh browser context, the SDK order rotates (interleaved). ${pr.plan.reps} repetitions. Refresh tokens with rotation for all three; storage: oauth-spa IndexedDB (its default), oidc-client-ts localStorage (its default is sessionStorage, which other tabs do not share) with automaticSilentRenew off (a token past its expiry is renewed on demand: getUser → expired → signinSilent, which uses the refresh token), auth0-spa-js cacheLocation 'localstorage' with useRefreshTokens (its default, memory, loses the refresh token on reload and in other tabs). "After expiry" = the runner moves every page's Date.now() ${pr.skewMs / 1000} s forward (the access token lives ${pr.accessTokenTTL} s); provider and API keep the real time.`)
  say()
  say(loadNote)
  say()
  const ms = (x) => `${num(x.median, 0)} (${num(x.p25, 0)}–${num(x.p75, 0)})`
  const overlap = (a, b) => !(a.p75 < b.p25 || b.p75 < a.p25)
  const ratioCell = (key, p) => {
    const a = s['oauth-spa'][key]
    const b = s[p][key]
    return `${num(b.median / a.median, 2)}×${overlap(a, b) ? ' (noisy: ranges overlap)' : ''}`
  }
  const hot = (x) => `${num(x.hot.bestRatio, 1)}× (${num(x.hot.bestNsPerCall.getAccessToken, 0)} ns; median round ${num(x.hot.ratioVsMapGet.median, 0)}×)`
  const list = (a) => a.join(', ')
  // One empty ratio cell per peer (BENCH_SDKS may name more than two, e.g. a second build of oauth-spa).
  const blank = peers.map(() => '')
  const rows = [
    [`hot path: \`await getAccessToken()\` with a valid token ÷ \`await Promise.resolve(map.get())\`, best of ${pr.plan.hot.rounds * pr.plan.reps} rounds of ${num(pr.plan.hot.n)} calls (Map: ${num(pr.plan.hot.n * pr.plan.hot.mapGetMultiplier)}) (ns per call)`, ...SDKS.map((x) => hot(s[x])), ...peers.map((p) => `${num(s[p].hot.bestRatio / s['oauth-spa'].hot.bestRatio, 2)}×`)],
    ['cold start, signed out: page fetch → SDK ready, ms median (p25–p75)', ...SDKS.map((x) => ms(s[x].coldMs)), ...peers.map((p) => ratioCell('coldMs', p))],
    ['callback → user (code grant done, token and user in hand), ms', ...SDKS.map((x) => ms(s[x].callbackMs)), ...peers.map((p) => ratioCell('callbackMs', p))],
    ['reload → authenticated (access token in hand), ms', ...SDKS.map((x) => ms(s[x].reloadMs)), ...peers.map((p) => ratioCell('reloadMs', p))],
    [`burst: ${pr.plan.burst} concurrent calls after expiry, 1 tab: refresh grants per rep`, ...SDKS.map((x) => list(s[x].burst.refreshGrantsPerRep)), ...blank],
    ['burst: calls that failed per rep (invalid_grant at the provider)', ...SDKS.map((x) => `${list(s[x].burst.failedCallsPerRep)} (${list(s[x].burst.invalidGrantPerRep)})`), ...blank],
    ['burst: sessions lost (no working token after the next expiry)', ...SDKS.map((x) => `${s[x].burst.sessionsLost} of ${pr.plan.reps}`), ...blank],
    [`${pr.plan.tabs} tabs after expiry, one call each at the same instant: sessions lost (at the next expiry)`, ...SDKS.map((x) => `${s[x].tabs.sessionsLost} of ${pr.plan.reps}`), ...blank],
    [`${pr.plan.tabs} tabs: refresh grants per rep (invalid_grant)`, ...SDKS.map((x) => `${list(s[x].tabs.refreshGrantsPerRep)} (${list(s[x].tabs.invalidGrantPerRep)})`), ...blank],
  ]
  say(mdTable(['Figure', ...SDKS, ...peers.map((p) => `${p} ÷ oauth-spa`)], rows, ['l', ...SDKS.map(() => 'r'), ...peers.map(() => 'r')]))
  say()
  say(`Ratios > 1: the peer is slower (for the hot path: its call costs more awaited Map lookups; the best round per variant is the figure, because on this loaded machine a long round is descheduled more often than a short one and a median would be biased against the slower variant; the median per-round ratio is shown beside it). Timings are medians over the repetitions (cold starts: over ${pr.plan.colds ?? 1} fresh contexts per repetition; reloads: over all reloads), p25–p75 in brackets; "noisy" where the two p25–p75 ranges overlap, so the order of the two is not established by this run. Sessions lost: after the race, the clock moves past the expiry once more and the tab (each tab in turn) cannot get an access token the API accepts.`)
  const errs = SDKS.filter((x) => s[x].pageErrors.length)
  if (errs.length) say(`Page errors: ${errs.map((x) => `${x}: ${[...new Set(s[x].pageErrors)].slice(0, 3).join(' | ')}`).join('; ')}.`)
  say()
}

/** Issue 18's goal: ahead of both peers on every figure (lower time, lower ratio, fewer sessions lost). */
function peerVerdicts(s) {
  const peers = SDKS.filter((x) => x !== 'oauth-spa')
  const me = s['oauth-spa']
  const ahead = (name, get) => [`side by side: ${name}, oauth-spa ahead of both`, peers.every((p) => get(me) < get(s[p]))]
  const noWorse = (name, get) => [`side by side: ${name}, oauth-spa no worse than either`, peers.every((p) => get(me) <= get(s[p]))]
  return [
    ahead('hot path (best round)', (x) => x.hot.bestRatio),
    ahead('cold start (median)', (x) => x.coldMs.median),
    ahead('callback → user (median)', (x) => x.callbackMs.median),
    ahead('reload → authenticated (median)', (x) => x.reloadMs.median),
    noWorse('burst sessions lost', (x) => x.burst.sessionsLost),
    noWorse('tabs sessions lost', (x) => x.tabs.sessionsLost),
  ]
}

async function main() {
  const started = Date.now()
  const results = {
    date: new Date().toISOString(),
    commit: gitCommit(REPO),
    environment: nodeEnvironment(),
    quick,
    notes: [AUTH0_NOTE, NOISE_NOTE],
  }
  if (!existsSync(path.join(REPO, 'dist', 'index.js')) || !existsSync(path.join(REPO, 'dist', 'oauth-spa.standalone.min.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (npm run bench does)')
  }
  const env = results.environment
  say(`# oauth-spa bench${quick ? ' (quick: harness check, too few repetitions for figures)' : ''}`)
  say()
  say(`${results.date}, commit ${results.commit}. Node ${env.node}, ${env.platform}, ${env.cpus} CPUs (${env.cpuModel}), ${env.memoryGB} GB RAM.`)
  say()
  say(NOISE_NOTE)
  say()

  if (!only || only === 'size') {
    progress('size: bundling the entries…')
    results.size = await measureSizes({ log: progress })
    if (withBreakdown) {
      progress('size: attributing the core bundle…')
      results.size.breakdown = await breakdown('oauth-spa.js', { fromSrc: true })
      const floorBreakdown = await breakdown('floor-dpop.js', { fromSrc: false })
      results.size.floorBreakdown = { groups: floorBreakdown.groups, oauth4webapi: floorBreakdown.oauth4webapi }
      results.size.breakdown.beyondFloor = sizeSection(results.size, results.size.breakdown, floorBreakdown).extraBeyondFloor
    } else {
      sizeSection(results.size)
    }
  }
  if (!only || only === 'runtime' || only === 'peers') {
    progress('runtime, side by side: oauth-spa, oidc-client-ts, auth0-spa-js…')
    const load = os.loadavg()
    results.peers = await runPeerBench({ log: progress, quick })
    results.peers.loadAverage = { before: load, after: os.loadavg() }
    peersSection(results.peers, `Machine load while measuring: load average ${num(load[0], 1)} before and ${num(os.loadavg()[0], 1)} after, on ${os.cpus().length} CPUs shared with other jobs: the absolute times are slow and noisy; compare the ratios and the counts.`)
  }
  if ((!only && all) || only === 'runtime') {
    progress('runtime: starting the provider, the API and Chromium…')
    results.runtime = await runBrowserBench({ log: progress, quick })
    runtimeSections(results.runtime)
  }

  const verdicts = [
    ...(results.size?.budgets ?? []).map((b) => [b.name, b.pass]),
    ...(results.peers ? peerVerdicts(results.peers.summary) : []),
    ...(results.runtime
      ? [
          ['fetch wrapper ratio ≤ 1.05', results.runtime.fetchOverhead.pass],
          ['cold start difference < 5 ms', results.runtime.coldStart.pass],
          ['1 refresh grant for 100 calls in 1 tab', results.runtime.coalescing.oneTab.pass],
          ['1 refresh grant for 100 calls over 4 tabs', results.runtime.coalescing.fourTabs.pass],
          ['no heap growth beyond noise', results.runtime.memory.pass],
        ]
      : []),
  ]
  results.verdicts = Object.fromEntries(verdicts)
  say('## Summary')
  say()
  say(mdTable(['Check', 'Result'], verdicts.map(([n, p]) => [n, passFail(p)]), ['l', 'l']))
  say()
  const seconds = Math.round((Date.now() - started) / 1000)
  results.durationSeconds = seconds
  say(`Reproduce: \`npm run bench\` (builds dist/ first). This run took ${seconds} s.`)

  if (write) {
    mkdirSync(RESULTS, { recursive: true })
    writeFileSync(path.join(RESULTS, 'latest.json'), `${JSON.stringify(results, null, 2)}\n`)
    writeFileSync(path.join(RESULTS, 'latest.md'), `${out.join('\n')}\n`)
    progress(`\nwrote ${path.relative(REPO, path.join(RESULTS, 'latest.json'))} and latest.md`)
  } else {
    progress('\n(results not written: --quick, --only or --no-write)')
  }
  if (strict && verdicts.some(([, p]) => !p)) process.exitCode = 1
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 2
})
