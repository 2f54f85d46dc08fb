// The HTTP handler in front of oidc-provider: it logs authorization requests, lets the fault
// switch and the provider-shaped rewrites act first, serves the interaction pages, and hands
// everything else to oidc-provider.
import { page } from './pages.mjs'
import { addConsentForOffline, handleCustomLogout, refuseFrame, serveDiscovery, stripIss } from './provider-shapes.mjs'
import { escapeHtml } from './util.mjs'

/**
 * @param {object} parts
 * @param {import('oidc-provider').default} parts.provider
 * @param {string} parts.origin the provider's origin
 * @param {object[]} parts.clients startProvider's `clients`
 * @param {object} parts.stats
 * @param {(type: string, data?: object) => void} parts.log
 * @param {ReturnType<import('./provider-faults.mjs').createFaults>} parts.faults
 * @param {(req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => Promise<void>} parts.interactions
 * @param {object} parts.options startProvider's coop, refuseFraming, authorizationResponseIss, discovery,
 *   customLogout and refreshTokenPolicy
 */
export function createProviderHandler({ provider, origin, clients, stats, log, faults, interactions, options }) {
  const { coop, refuseFraming, authorizationResponseIss, discovery, customLogout, refreshTokenPolicy } = options
  const callback = provider.callback()
  const discoveryPaths = new Set(['/.well-known/openid-configuration', ...(discovery.aliases ?? [])])
  return (req, res) => {
    if (coop) res.setHeader('Cross-Origin-Opener-Policy', 'same-origin')
    if (req.url.split('?')[0] === '/auth' && req.method === 'GET') {
      // What each authorization request asked for, where a test cannot watch the browser's requests.
      const q = new URL(req.url, origin).searchParams
      log('authorization.request', { prompt: q.get('prompt'), acrValues: q.get('acr_values'), maxAge: q.get('max_age'), scope: q.get('scope'), dest: req.headers['sec-fetch-dest'] ?? null })
    }
    if (refuseFraming && req.url.split('?')[0] === '/auth' && req.headers['sec-fetch-dest'] === 'iframe') {
      log('framing.refused')
      refuseFrame(res)
      return
    }
    if (faults.intercept(req, res, () => callback(req, res))) return
    const path = req.url.split('?')[0]
    if (!authorizationResponseIss) stripIss(res)
    if (discoveryPaths.has(path) && (discovery.transform || path !== '/.well-known/openid-configuration')) {
      serveDiscovery(req, res, path, { discovery, log, callback })
      return
    }
    if (customLogout && path === customLogout.path && req.method === 'GET') {
      handleCustomLogout(req, res, { origin, customLogout, clients, provider, stats, log }).catch((err) => {
        res.statusCode = 500
        res.end(String(err.message))
      })
      return
    }
    if (refreshTokenPolicy === 'offline_access_without_consent' && (path === '/auth' || path === '/request') ) {
      addConsentForOffline(req, origin)
    }
    if (req.url.startsWith('/interaction/')) {
      interactions(req, res).catch((err) => {
        log('interaction.error', { message: err.message })
        if (!res.headersSent) {
          res.statusCode = err.statusCode ?? 500
          res.setHeader('Content-Type', 'text/html; charset=utf-8')
          res.end(page('Sign-in failed', `<p id="error">${escapeHtml(err.error_description ?? err.message)}</p>`))
        } else {
          res.end()
        }
      })
      return
    }
    callback(req, res)
  }
}
