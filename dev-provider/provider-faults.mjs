/**
 * A switch in front of the provider that makes one endpoint misbehave, for failure tests:
 *
 *   faults.set({ mode: 'status', status: 503 })        answer 503 (500, ...) with CORS headers, never reach the provider
 *                                                      (extra response headers: { ..., headers: { Location } })
 *   faults.set({ mode: 'drop' })                       cut the connection without an answer
 *   faults.set({ mode: 'hang' })                       never answer (until clear(), which cuts it)
 *   faults.set({ mode: 'delay', delayMs, phase: 'before' })  hold the request, then hand it to the provider,
 *                                                      unless the client went away meanwhile (then the provider never sees it)
 *   faults.set({ mode: 'delay', delayMs, phase: 'after' })   the provider handles it at once (e.g. rotates the
 *                                                      refresh token) and the answer is held back for delayMs
 *   options: path ('/token'), method ('POST'), count (how many requests, default: until clear())
 *   faults.clear(), faults.log (one entry per intercepted request: { at, mode, outcome, clientGoneAt?, ... }), faults.active
 *
 * Every intercepted request is also logged in the provider's event log as `fault`.
 */
export function createFaults({ allowedOrigin, log }) {
  let rule
  const open = new Set()
  const entries = []
  const note = (entry, outcome) => {
    entry.outcome = outcome
    entry.settledAt = Date.now()
    log('fault', { mode: entry.mode, path: entry.path, outcome })
  }
  const clientGone = (req, res) => req.socket.destroyed || res.destroyed || (res.closed && !res.writableFinished)

  function intercept(req, res, pass) {
    if (!rule) return false
    const path = req.url.split('?')[0]
    if (path !== rule.path || req.method !== rule.method) return false
    const r = rule
    if (--r.remaining <= 0) rule = undefined
    const entry = { at: Date.now(), mode: r.mode, path, outcome: 'pending' }
    entries.push(entry)
    // when the client (the browser tab) went away before getting an answer
    res.on('close', () => {
      if (!res.writableFinished) entry.clientGoneAt ??= Date.now()
    })
    const origin = req.headers.origin
    const cors = origin && allowedOrigin(origin) ? { 'Access-Control-Allow-Origin': origin, Vary: 'Origin' } : {}

    if (r.mode === 'status') {
      req.resume()
      const status = r.status ?? 503
      const json = r.body === undefined && status !== 503
      const body = r.body ?? (json ? JSON.stringify({ error: 'server_error', error_description: 'fault injected by the test' }) : 'Service Unavailable')
      res.writeHead(status, {
        ...cors,
        'Content-Type': json ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8',
        'Cache-Control': 'no-store',
        ...(status === 503 ? { 'Retry-After': '1' } : {}),
        ...r.headers,
      })
      res.end(body)
      note(entry, `answered ${status}`)
      return true
    }
    if (r.mode === 'drop') {
      req.socket.destroy()
      note(entry, 'connection dropped')
      return true
    }
    if (r.mode === 'hang') {
      const cut = () => {
        if (entry.outcome === 'pending') note(entry, 'cut by clear()')
        req.socket.destroy()
      }
      open.add(cut)
      res.on('close', () => {
        open.delete(cut)
        if (entry.outcome === 'pending') note(entry, 'client went away')
      })
      return true
    }
    if (r.mode === 'delay' && r.phase === 'after') {
      const end = res.end.bind(res)
      res.end = (...args) => {
        entry.providerDoneAt = Date.now()
        entry.status = res.statusCode
        const timer = setTimeout(() => {
          open.delete(flush)
          note(entry, clientGone(req, res) ? `provider answered ${res.statusCode}; answer lost: client gone` : `provider answered ${res.statusCode}; delivered late`)
          end(...args)
        }, r.delayMs ?? 1000)
        const flush = () => {
          clearTimeout(timer)
          note(entry, clientGone(req, res) ? 'answer lost: client gone' : 'delivered early (clear)')
          end(...args)
        }
        open.add(flush)
        return res
      }
      pass()
      return true
    }
    if (r.mode === 'delay') {
      let gone = false
      res.on('close', () => {
        if (!res.writableFinished) gone = true
      })
      const timer = setTimeout(() => {
        open.delete(release)
        release()
      }, r.delayMs ?? 1000)
      const release = () => {
        clearTimeout(timer)
        if (gone || clientGone(req, res)) {
          note(entry, 'client gone before the provider saw the request: not forwarded')
          req.socket.destroy()
          return
        }
        note(entry, 'forwarded to the provider')
        pass()
      }
      open.add(release)
      return true
    }
    throw new Error(`faults: unknown mode ${r.mode}`)
  }

  return {
    intercept,
    log: entries,
    get active() {
      return rule !== undefined
    },
    set(options) {
      const { mode, path = '/token', method = 'POST', count = Infinity, ...rest } = options
      if (!['status', 'drop', 'hang', 'delay'].includes(mode)) throw new TypeError(`faults.set: unknown mode ${mode}`)
      rule = { mode, path, method, remaining: count, ...rest }
      log('fault.set', { mode, path, method, count: Number.isFinite(count) ? count : null, status: rest.status ?? null, delayMs: rest.delayMs ?? null, phase: rest.phase ?? null })
    },
    /** Stops misbehaving; held requests are released (delay) or cut (hang). */
    clear() {
      rule = undefined
      for (const release of [...open]) release()
      open.clear()
      log('fault.clear')
    },
  }
}
