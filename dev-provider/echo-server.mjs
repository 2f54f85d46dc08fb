// A foreign-origin server for the end-to-end tests: it must never see a token, and records every
// request so that a test can check that none reached it.
import http from 'node:http'

import { listen, readBody, sendJson, stopServer } from './util.mjs'

/**
 * A foreign-origin server that must never see a token. Permissive CORS (it even allows the
 * Authorization header, so a leaking client would actually send it), records every request.
 */
export async function startEchoServer({ port = 0 } = {}) {
  const requests = []
  const server = http.createServer(async (req, res) => {
    const body = req.method === 'GET' || req.method === 'HEAD' ? '' : await readBody(req).catch(() => '')
    const url = new URL(req.url, 'http://127.0.0.1')
    const record = {
      at: Date.now(),
      method: req.method,
      path: url.pathname,
      search: url.search,
      headers: { ...req.headers },
      preflight: req.method === 'OPTIONS',
    }
    requests.push(record)
    const headers = {
      'Access-Control-Allow-Origin': '*',
      'Access-Control-Expose-Headers': '*',
      'Cache-Control': 'no-store',
    }
    if (req.method === 'OPTIONS') {
      // `Access-Control-Allow-Headers: *` does not cover Authorization, so reflect the request
      headers['Access-Control-Allow-Headers'] = req.headers['access-control-request-headers'] ?? '*'
      headers['Access-Control-Allow-Methods'] = req.headers['access-control-request-method'] ?? '*'
      res.writeHead(204, headers)
      res.end()
      return
    }
    const headerNames = Object.keys(req.headers)
    sendJson(res, 200, { method: req.method, path: url.pathname, headerNames, bodyLength: body.length }, headers)
  })
  const actualPort = await listen(server, port)
  const origin = `http://127.0.0.1:${actualPort}`
  return {
    url: origin,
    origin,
    port: actualPort,
    requests,
    /** requests (incl. preflights) that carried or announced an Authorization or DPoP header */
    leaks() {
      return requests.filter((r) => {
        if (r.headers.authorization !== undefined || r.headers.dpop !== undefined) return true
        const announced = String(r.headers['access-control-request-headers'] ?? '').toLowerCase().split(',').map((s) => s.trim())
        return announced.includes('authorization') || announced.includes('dpop')
      }).map((r) => ({ method: r.method, path: r.path, preflight: r.preflight, headerNames: Object.keys(r.headers) }))
    },
    reset() {
      requests.length = 0
    },
    async close() {
      await stopServer(server)
    },
  }
}
