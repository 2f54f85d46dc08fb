// A resource server for providers whose access tokens are opaque (Better Auth without a resource
// indicator): it validates each Bearer token by asking the provider's UserInfo endpoint with it
// (OIDC Core §5.3), and answers 401 with an RFC 6750 challenge when the provider refuses it.
//
//   const api = await startUserInfoApi({ userinfoEndpoint, allowedOrigins: [appOrigin] })
//   GET /api/me → the provider's UserInfo claims for the token
//   api.stats.ok, api.stats.unauthorized, api.stats.schemes
// Token values are never printed.
import http from 'node:http'

import { listen, sendJson, stopServer } from '../../../../dev-provider/util.mjs'

/**
 * @param {object} options
 * @param {string} options.userinfoEndpoint
 * @param {string[]} options.allowedOrigins
 */
export async function startUserInfoApi({ userinfoEndpoint, allowedOrigins }) {
  const stats = { ok: 0, unauthorized: 0, schemes: [] }
  const server = http.createServer(async (req, res) => {
    const origin = req.headers.origin
    const cors = origin && allowedOrigins.includes(origin)
      ? { 'access-control-allow-origin': origin, vary: 'origin', 'access-control-expose-headers': 'www-authenticate' }
      : {}
    if (req.method === 'OPTIONS') {
      res.writeHead(204, { ...cors, 'access-control-allow-methods': 'GET, POST', 'access-control-allow-headers': 'authorization, content-type, dpop' })
      res.end()
      return
    }
    const url = new URL(req.url, 'http://127.0.0.1')
    if (url.pathname !== '/api/me') {
      sendJson(res, 404, { error: 'not_found' }, cors)
      return
    }
    const match = /^(\S+) (\S+)$/.exec(req.headers.authorization ?? '')
    stats.schemes.push(match ? match[1] : 'none')
    const refuse = (error) => {
      stats.unauthorized++
      sendJson(res, 401, { error }, { ...cors, 'www-authenticate': error ? `Bearer error="${error}"` : 'Bearer' })
    }
    if (!match || match[1].toLowerCase() !== 'bearer') return refuse(undefined)
    try {
      const answer = await fetch(userinfoEndpoint, { headers: { authorization: `Bearer ${match[2]}`, accept: 'application/json' } })
      if (!answer.ok) return refuse('invalid_token')
      stats.ok++
      sendJson(res, 200, await answer.json(), cors)
    } catch {
      sendJson(res, 502, { error: 'userinfo_unreachable' }, cors)
    }
  })
  const port = await listen(server, 0)
  return {
    origin: `http://127.0.0.1:${port}`,
    stats,
    close: () => stopServer(server),
  }
}
