// In-page instrumentation for phases.mjs (an init script, never served to the bench pages):
// logs, with performance.now(), every indexedDB.open and IndexedDB transaction, Web Locks request
// (asked, granted, released), fetch, response body read, WebCrypto call, timer with a delay and
// BroadcastChannel message, into window.__ev. It wraps the page's globals: use it only for a
// diagnosis run, never for the figures of run.mjs.
(() => {
  const ev = (window.__ev = [])
  const now = () => performance.now()
  const log = (k, d) => ev.push([Math.round(now() * 10) / 10, k, d])
  window.__log = log
  // IndexedDB
  const IDBF = IDBFactory.prototype
  const open = IDBF.open
  IDBF.open = function (...a) {
    const t0 = now()
    log('idb.open', a.join(','))
    const r = open.apply(this, a)
    r.addEventListener('success', () => log('idb.open.ok', `${(now() - t0).toFixed(1)}ms`))
    r.addEventListener('upgradeneeded', () => log('idb.upgrade', ''))
    return r
  }
  const tx = IDBDatabase.prototype.transaction
  let n = 0
  IDBDatabase.prototype.transaction = function (stores, mode) {
    const id = ++n
    const t0 = now()
    log('idb.tx', `#${id} ${[].concat(stores).join('+')} ${mode ?? 'readonly'}`)
    const t = tx.call(this, stores, mode)
    t.addEventListener('complete', () => log('idb.tx.done', `#${id} ${(now() - t0).toFixed(1)}ms`))
    return t
  }
  // Web Locks
  if (navigator.locks) {
    const req = navigator.locks.request.bind(navigator.locks)
    navigator.locks.request = (name, opts, fn) => {
      if (typeof opts === 'function') (fn = opts), (opts = {})
      const t0 = now()
      log('lock.req', name)
      return req(name, opts, async (l) => {
        log('lock.got', `${name} ${(now() - t0).toFixed(1)}ms`)
        try { return await fn(l) } finally { log('lock.rel', name) }
      })
    }
  }
  // fetch
  const f = window.fetch
  window.fetch = function (input, init) {
    const url = typeof input === 'string' ? input : input.url ?? String(input)
    const m = init?.method ?? input?.method ?? 'GET'
    const t0 = now()
    log('fetch', `${m} ${url}`)
    return f.call(this, input, init).then((r) => (log('fetch.done', `${m} ${new URL(url, location.href).pathname} ${r.status} ${(now() - t0).toFixed(1)}ms`), r))
  }
  for (const m of ['json', 'text', 'arrayBuffer']) {
    const orig = Response.prototype[m]
    Response.prototype[m] = function (...a) {
      const t0 = now()
      const u = new URL(this.url || 'x:/', location.href).pathname
      log(`body.${m}`, u)
      return orig.apply(this, a).then((v) => (log(`body.${m}.done`, `${u} ${(now() - t0).toFixed(1)}ms`), v))
    }
  }
  if (crypto.subtle) for (const m of ['digest', 'sign', 'verify', 'generateKey', 'importKey', 'exportKey']) {
    const orig = crypto.subtle[m].bind(crypto.subtle)
    crypto.subtle[m] = (...a) => {
      const t0 = now()
      log(`crypto.${m}`, '')
      return orig(...a).then((v) => (log(`crypto.${m}.done`, `${(now() - t0).toFixed(1)}ms`), v))
    }
  }
  // timers with a delay
  const st = window.setTimeout
  window.setTimeout = function (fn, ms, ...a) {
    if (ms > 0) log('setTimeout', ms)
    return st.call(this, fn, ms, ...a)
  }
  const BC = window.BroadcastChannel
  if (BC) window.BroadcastChannel = class extends BC { constructor(n) { super(n); log('bc.new', n) } postMessage(m) { log('bc.post', JSON.stringify(m).slice(0, 60)); super.postMessage(m) } }
  document.addEventListener('DOMContentLoaded', () => log('DOMContentLoaded', ''))
})()
