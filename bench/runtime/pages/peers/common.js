// The side-by-side page harness: every SDK page (oauth-spa.js, oidc-client-ts.js, auth0-spa-js.js)
// gives `expose()` the same small adapter, and the runner drives the same loops through
// `window.peer`. Everything is timed inside the page (performance.now() counts from the
// navigation start of the page), so no Node ↔ browser round trip is in a figure.
import config from '/bench-config.js'

export { config }

/** Wall clock without the skew the runner adds to Date.now (see CLOCK_SKEW_INIT in ../../peers.mjs). */
const realNow = () => performance.timeOrigin + performance.now()

const scriptStart = performance.now()
let sink = 0

/**
 * @param {{ name: string, start(): Promise<boolean>, login(): Promise<void>, getAccessToken(): Promise<string>, user(): Promise<unknown> }} adapter
 *   start() handles a redirect callback when the URL carries one and says whether a session is there;
 *   getAccessToken() resolves with an access token (refreshing when the SDK decides to) or rejects.
 */
export function expose(adapter) {
  const ready = (async () => {
    const callback = new URL(location.href).searchParams.has('code')
    const signedIn = await adapter.start()
    // "authenticated" = the page holds an access token it may send; "callback → user" also needs the user.
    let status = 'unauthenticated'
    let user
    if (signedIn) {
      const token = await adapter.getAccessToken()
      user = callback ? await adapter.user() : undefined
      if (token) status = 'authenticated'
    }
    const t = { scriptStart, ready: performance.now(), status, callback, hasUser: user ? true : undefined }
    window.__t = t
    return t
  })()
  ready.catch((e) => {
    window.__t = { scriptStart, ready: performance.now(), status: `error: ${e?.error ?? e?.code ?? e?.name}` }
  })

  /** `await getAccessToken()` with a valid token in hand against `await` of a `map.get` of the same string, interleaved rounds. */
  async function hotPath({ n, rounds, mapGetMultiplier }) {
    const token = await adapter.getAccessToken()
    const map = new Map([['t', token]])
    const variants = {
      getAccessToken: async (count) => {
        for (let i = 0; i < count; i++) sink += (await adapter.getAccessToken()).length
      },
      mapGet: async (count) => {
        for (let i = 0; i < count; i++) sink += (await Promise.resolve(map.get('t'))).length
      },
    }
    const counts = { getAccessToken: n, mapGet: n * mapGetMultiplier }
    for (const name of Object.keys(variants)) await variants[name](Math.ceil(counts[name] / 10))
    const nsPerCall = { getAccessToken: [], mapGet: [] }
    for (let r = 0; r < rounds; r++) {
      for (const name of r % 2 === 0 ? ['getAccessToken', 'mapGet'] : ['mapGet', 'getAccessToken']) {
        const t0 = performance.now()
        await variants[name](counts[name])
        nsPerCall[name].push(((performance.now() - t0) * 1e6) / counts[name])
      }
    }
    return { nsPerCall, sameToken: (await adapter.getAccessToken()) === token }
  }

  /** `count` concurrent getAccessToken() calls starting at the wall-clock instant `startAt`. */
  async function burst({ count, startAt }) {
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, startAt - realNow())))
    const t0 = performance.now()
    const outcomes = await Promise.all(
      Array.from({ length: count }, () => adapter.getAccessToken().then((t) => ({ token: t }), (e) => ({ error: String(e?.error ?? e?.code ?? e?.name ?? e) }))),
    )
    const ms = performance.now() - t0
    const errors = {}
    for (const o of outcomes) if (o.error) errors[o.error] = (errors[o.error] ?? 0) + 1
    const tokens = [...new Set(outcomes.filter((o) => o.token).map((o) => o.token))]
    return { ms, ok: outcomes.length - Object.values(errors).reduce((a, b) => a + b, 0), errors, tokens }
  }

  /** After a race: can this tab still get a token that the API accepts? */
  async function check() {
    try {
      const token = await adapter.getAccessToken()
      const response = await fetch(config.apiUrl, { headers: { Authorization: `Bearer ${token}` } })
      return { ok: response.status === 200, status: response.status }
    } catch (e) {
      return { ok: false, status: `error: ${e?.error ?? e?.code ?? e?.name}` }
    }
  }

  /** The API's answer to each token (200 = valid). */
  async function apiStatuses(tokens) {
    return Promise.all(tokens.map((t) => fetch(config.apiUrl, { headers: { Authorization: `Bearer ${t}` } }).then((r) => r.status)))
  }

  function setSkew(ms) {
    window.__skewMs = ms
    localStorage.setItem('__bench_skew', String(ms))
  }

  window.peer = { name: adapter.name, ready, login: () => void adapter.login(), hotPath, burst, check, apiStatuses, setSkew, sink: () => sink }
}
