// The bench app: a signed-in oauth-spa client and the loops the runner calls through `window.bench`.
// Every loop runs inside the page, so the figures contain no Node ↔ browser round trips.
import { createOAuthClient } from '/dist/oauth-spa.standalone.min.js'
import config from '/bench-config.js'

const params = new URLSearchParams(location.search)
const options = { ...config.client }
if (params.has('leeway')) options.refreshLeewaySeconds = Number(params.get('leeway'))
const auth = createOAuthClient(options)
const api = config.apiUrl
/** Wall clock shared by all pages of the browser, sub-millisecond. */
const now = () => performance.timeOrigin + performance.now()
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))
let sink = 0

async function settle() {
  if (auth.isRedirectCallback()) {
    const { returnTo } = await auth.handleRedirectCallback()
    history.replaceState(null, '', returnTo)
  }
  if (auth.getSnapshot().status === 'loading') {
    await new Promise((resolve) => {
      const off = auth.subscribe(() => {
        if (auth.getSnapshot().status !== 'loading') {
          off()
          resolve()
        }
      })
    })
  }
  document.getElementById('status').textContent = auth.getSnapshot().status
  return auth.getSnapshot().status
}

/** Hot token path: `getAccessToken()` with a valid cached token against a Map lookup, interleaved. */
async function hotPath({ n, rounds, mapGetMultiplier }) {
  const token = await auth.getAccessToken()
  const key = 'access-token'
  const map = new Map([[key, token]])
  const mapN = n * mapGetMultiplier
  const variants = {
    getAccessToken: async (count) => {
      for (let i = 0; i < count; i++) sink += (await auth.getAccessToken()).length
    },
    promiseMapGet: async (count) => {
      for (let i = 0; i < count; i++) sink += (await Promise.resolve(map.get(key))).length
    },
    mapGet: async (count) => {
      for (let i = 0; i < count; i++) sink += map.get(key).length
    },
  }
  const counts = { getAccessToken: n, promiseMapGet: n, mapGet: mapN }
  const names = Object.keys(variants)
  for (const name of names) await variants[name](Math.ceil(counts[name] / 10)) // warm-up (JIT)
  const opsPerSecond = Object.fromEntries(names.map((name) => [name, []]))
  for (let r = 0; r < rounds; r++) {
    const order = names.map((_, i) => names[(i + r) % names.length])
    for (const name of order) {
      const t0 = performance.now()
      await variants[name](counts[name])
      const ms = performance.now() - t0
      opsPerSecond[name].push(counts[name] / (ms / 1000))
    }
  }
  return { opsPerSecond, counts, sameToken: (await auth.getAccessToken()) === token, sink: sink > 0 }
}

async function drain(response) {
  await response.arrayBuffer()
  return response.status
}

/**
 * `auth.fetch` against plain `fetch` with the same Authorization header set by hand. Interleaved
 * request by request (A B, then B A, …), so that both see the same moment of a noisy machine; each
 * request is timed, and a round's figure per variant is its mean time per request.
 */
async function fetchOverhead({ rounds, perRound, warmup }) {
  const token = await auth.getAccessToken()
  const variants = {
    authFetch: () => auth.fetch(api),
    plainFetch: () => fetch(api, { headers: { Authorization: `Bearer ${token}` } }),
  }
  const statuses = {}
  const one = async (name) => {
    const t0 = performance.now()
    const status = await drain(await variants[name]())
    const ms = performance.now() - t0
    statuses[`${name}:${status}`] = (statuses[`${name}:${status}`] ?? 0) + 1
    return ms
  }
  for (let i = 0; i < warmup; i++) {
    await one('authFetch')
    await one('plainFetch')
  }
  const msPerRequest = { authFetch: [], plainFetch: [] }
  const samples = { authFetch: [], plainFetch: [] }
  for (let r = 0; r < rounds; r++) {
    const sum = { authFetch: 0, plainFetch: 0 }
    for (let i = 0; i < perRound; i++) {
      for (const name of (i + r) % 2 === 0 ? ['authFetch', 'plainFetch'] : ['plainFetch', 'authFetch']) {
        const ms = await one(name)
        sum[name] += ms
        samples[name].push(ms)
      }
    }
    for (const name of Object.keys(sum)) msPerRequest[name].push(sum[name] / perRound)
  }
  return { msPerRequest, samples, statuses, sameToken: (await auth.getAccessToken()) === token }
}

let lastToken
/** The token a plain `fetch` sends: the one the client handed out last (read without refreshing). */
async function currentToken() {
  lastToken = await auth.getAccessToken()
  return lastToken
}

/**
 * `count` concurrent requests started at the shared wall-clock time `startAt`: through `auth.fetch`
 * (mode 'auth') or plain `fetch` with the last token set by hand (mode 'plain'). One request is
 * sent first so that both modes start with the CORS preflight of the API cached.
 */
async function burst({ count, startAt, mode }) {
  const headers = { Authorization: `Bearer ${lastToken ?? 'warm-up'}` }
  await drain(await fetch(api, { headers }))
  await sleep(startAt - Date.now())
  const one = mode === 'plain' ? () => fetch(api, { headers }) : () => auth.fetch(api)
  let refreshedAt
  const off = auth.on('token_refreshed', () => {
    refreshedAt ??= now()
  })
  const t0 = now()
  const statuses = await Promise.all(Array.from({ length: count }, () => one().then(drain, (e) => `error:${e.code ?? e.name}`)))
  const t1 = now()
  off()
  const byStatus = {}
  for (const s of statuses) byStatus[s] = (byStatus[s] ?? 0) + 1
  return { t0, t1, byStatus, refreshedAt }
}

/**
 * What the wrapper itself costs per call, with the network taken out: `window.fetch` is replaced
 * by a stub that answers at once, then `auth.fetch` and a call of the stub with the header set by
 * hand are timed, interleaved. Counts the stub's calls to be sure the wrapper went through it.
 */
async function wrapperCpu({ n, rounds }) {
  const token = await auth.getAccessToken()
  const realFetch = window.fetch
  let stubCalls = 0
  window.fetch = async () => {
    stubCalls++
    return new Response(null, { status: 204 })
  }
  const variants = {
    authFetch: () => auth.fetch(api),
    plainFetch: () => fetch(api, { headers: { Authorization: `Bearer ${token}` } }),
  }
  const usPerCall = { authFetch: [], plainFetch: [] }
  const warmup = Math.ceil(n / 10)
  try {
    for (const name of Object.keys(variants)) for (let i = 0; i < warmup; i++) await variants[name]()
    for (let r = 0; r < rounds; r++) {
      for (const name of r % 2 === 0 ? ['authFetch', 'plainFetch'] : ['plainFetch', 'authFetch']) {
        const t0 = performance.now()
        for (let i = 0; i < n; i++) await variants[name]()
        usPerCall[name].push(((performance.now() - t0) * 1000) / n)
      }
    }
  } finally {
    window.fetch = realFetch
  }
  const expected = 2 * warmup + 2 * n * rounds
  return { usPerCall, throughStub: stubCalls === expected, stubCalls, expected }
}

/** One forced refresh (a refresh grant, nothing else), in ms. */
async function refreshOnce() {
  const t0 = now()
  lastToken = await auth.getAccessToken({ forceRefresh: true })
  return now() - t0
}

/** `count` requests, `concurrency` at a time, through `auth.fetch` or plain `fetch`. */
async function fetchLoop({ count, concurrency, mode, url = api }) {
  const token = mode === 'plain' ? await auth.getAccessToken() : undefined
  const one = mode === 'plain' ? () => fetch(url, { headers: { Authorization: `Bearer ${token}` } }) : () => auth.fetch(url)
  let next = 0
  let failed = 0
  const worker = async () => {
    while (next < count) {
      next++
      const status = await drain(await one())
      if (status !== 200) failed++
    }
  }
  await Promise.all(Array.from({ length: concurrency }, worker))
  return { failed }
}

/** `count` sequential forced refreshes. */
async function refreshLoop({ count }) {
  for (let i = 0; i < count; i++) await auth.getAccessToken({ forceRefresh: true })
  return { count }
}

window.bench = {
  auth,
  ready: settle(),
  login: () => {
    void auth.login({ returnTo: '/' })
  },
  status: () => auth.getSnapshot().status,
  hotPath,
  fetchOverhead,
  wrapperCpu,
  burst,
  refreshOnce,
  currentToken,
  fetchLoop,
  refreshLoop,
}
