// A tiny static file server (node:http) for the demo and the end-to-end test app.
//
//   const app = await startStatic({
//     root: 'test/e2e/app',
//     routes: { '/app-config.json': (req, url) => ({ issuer, clientId }) },   // objects → JSON
//     csp: { connectSrc: () => [op.issuer, api.origin] },                    // or a full string/function
//   })
//
// - `/dist/*` maps to the repo's dist/ folder (the SDK build), everything else to `root`.
// - Correct MIME types (.js/.mjs as text/javascript), no directory listing, no path traversal.
// - `Referrer-Policy: no-referrer`, `X-Content-Type-Options: nosniff` and a strict CSP by default:
//   default-src 'self'; script-src 'self'; connect-src 'self' <extra>; object-src 'none'; base-uri 'none'
// - SPA fallback: an unknown path without a file extension (/callback, /logged-out) serves
//   index.html, unless `spaFallback: false`.
import { createReadStream } from 'node:fs'
import { readFile, stat } from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { listen, sendJson, stopServer } from '../../dev-provider/util.mjs'

/** The SDK's runtime dependencies, served under /vendor/<name> for the unbundled ESM build. */
const VENDOR = Object.fromEntries(['oauth4webapi', 'idb-keyval'].map((name) => [name, fileURLToPath(import.meta.resolve(name))]))

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')

export const MIME_TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.cjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.txt': 'text/plain; charset=utf-8',
  '.ts': 'text/plain; charset=utf-8',
  '.wasm': 'application/wasm',
}

function resolveValue(value, ...args) {
  return typeof value === 'function' ? value(...args) : value
}

function buildCsp(csp, req) {
  if (csp === false) return undefined
  if (typeof csp === 'string') return csp
  if (typeof csp === 'function') return csp(req)
  const connect = [...new Set((resolveValue(csp?.connectSrc, req) ?? []).filter(Boolean).map((u) => new URL(u).origin))]
  const extra = resolveValue(csp?.extra, req)
  // frame-src: origins the app may frame (a provider, for silent renewal); frame-ancestors: who may
  // frame the app ("'self'" lets its own silent-renewal iframe land on the callback page).
  const frames = [...new Set((resolveValue(csp?.frameSrc, req) ?? []).filter(Boolean).map((u) => new URL(u).origin))]
  const ancestors = resolveValue(csp?.frameAncestors, req) ?? "'none'"
  return [
    "default-src 'self'",
    "script-src 'self'",
    `connect-src 'self'${connect.length ? ` ${connect.join(' ')}` : ''}`,
    "img-src 'self' data:",
    "style-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    ...(frames.length ? [`frame-src 'self' ${frames.join(' ')}`] : []),
    `frame-ancestors ${ancestors}`,
    ...(extra ? [extra] : []),
  ].join('; ')
}

/**
 * @param {object} options
 * @param {number} [options.port=0]
 * @param {string} options.root folder to serve
 * @param {string} [options.distDir] default: <repo>/dist, served under /dist/
 * @param {Record<string, any | ((req, url) => any)>} [options.routes] exact paths answered by
 *   a value or a function returning a value: a string (sent as is, text/html unless it looks
 *   like JSON), an object ({ status, headers, body } if it has `body`, otherwise sent as JSON)
 * @param {Record<string, string> | ((req) => Record<string, string>)} [options.headers] extra headers on every response
 * @param {string | false | ((req) => string) | { connectSrc?: string[] | (() => string[]), frameSrc?: string[] | (() => string[]), frameAncestors?: string, extra?: string }} [options.csp]
 * @param {boolean} [options.spaFallback=true]
 * @param {string} [options.index='index.html']
 */
export async function startStatic(options = {}) {
  const {
    port = 0,
    root,
    distDir = path.join(REPO_ROOT, 'dist'),
    routes = {},
    headers = {},
    csp = {},
    spaFallback = true,
    index = 'index.html',
  } = options
  if (!root) throw new TypeError('startStatic: root is required')
  const rootDir = path.resolve(root)
  const requests = []
  /** @type {RegExp | undefined} */
  let refused

  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      console.error(`[static] ${req.method} ${req.url}: ${err.message}`)
      if (!res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' })
        res.end('internal error')
      } else {
        res.end()
      }
    })
  })
  const actualPort = await listen(server, port)
  const origin = `http://127.0.0.1:${actualPort}`

  function commonHeaders(req) {
    const out = {
      'Referrer-Policy': 'no-referrer',
      'X-Content-Type-Options': 'nosniff',
      'Cache-Control': 'no-store',
      ...resolveValue(headers, req),
    }
    const policy = buildCsp(csp, req)
    if (policy) out['Content-Security-Policy'] = policy
    return out
  }

  async function sendFile(req, res, file, status = 200) {
    const info = await stat(file).catch(() => undefined)
    if (!info?.isFile()) return false
    const type = MIME_TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream'
    res.writeHead(status, { ...commonHeaders(req), 'Content-Type': type, 'Content-Length': info.size })
    if (req.method === 'HEAD') {
      res.end()
      return true
    }
    await new Promise((resolve, reject) => {
      const stream = createReadStream(file)
      stream.on('error', reject)
      stream.on('end', resolve)
      stream.pipe(res)
    })
    return true
  }

  function inside(base, relative) {
    const file = path.resolve(base, `.${path.posix.normalize(`/${relative}`)}`)
    return file === base || file.startsWith(base + path.sep) ? file : undefined
  }

  async function handle(req, res) {
    const url = new URL(req.url, origin)
    requests.push({ at: Date.now(), method: req.method, path: url.pathname, search: url.search })
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { ...commonHeaders(req), Allow: 'GET, HEAD' })
      res.end()
      return
    }

    let pathname
    try {
      pathname = decodeURIComponent(url.pathname)
    } catch {
      res.writeHead(400, commonHeaders(req))
      res.end()
      return
    }

    if (refused?.test(pathname)) {
      // (Tests: a file the network cannot deliver, e.g. a chunk removed by a deployment.)
      res.writeHead(503, { ...commonHeaders(req), 'Content-Type': 'text/plain; charset=utf-8' })
      res.end('unavailable')
      return
    }

    if (Object.hasOwn(routes, pathname)) {
      const value = await resolveValue(routes[pathname], req, url)
      if (typeof value === 'string') {
        const type = /^\s*[[{]/.test(value) ? MIME_TYPES['.json'] : MIME_TYPES['.html']
        res.writeHead(200, { ...commonHeaders(req), 'Content-Type': type })
        res.end(value)
      } else if (value && typeof value === 'object' && 'body' in value) {
        res.writeHead(value.status ?? 200, { ...commonHeaders(req), ...value.headers })
        res.end(typeof value.body === 'string' ? value.body : JSON.stringify(value.body))
      } else {
        sendJson(res, 200, value ?? null, commonHeaders(req))
      }
      return
    }

    // The SDK's dependencies for the ESM build in dist/ (whose modules import them by bare name):
    // served under /vendor/, and the bare names in dist/ modules pointed there.
    if (pathname.startsWith('/vendor/') && Object.hasOwn(VENDOR, pathname.slice('/vendor/'.length))) {
      if (await sendFile(req, res, VENDOR[pathname.slice('/vendor/'.length)])) return
    }
    if (pathname.startsWith('/dist/') && pathname.endsWith('.js') && !pathname.includes('standalone')) {
      const source = inside(path.resolve(distDir), pathname.slice('/dist'.length))
      const code = source ? await readFile(source, 'utf8').catch(() => undefined) : undefined
      if (code !== undefined) {
        const body = code.replace(/(from\s*|import\s*\(\s*|import\s*)(['"])(oauth4webapi|idb-keyval)\2/g, (_m, lead, quote, name) => `${lead}${quote}/vendor/${name}${quote}`)
        res.writeHead(200, { ...commonHeaders(req), 'Content-Type': 'text/javascript; charset=utf-8' })
        res.end(req.method === 'HEAD' ? undefined : body)
        return
      }
    }

    let file
    if (pathname === '/dist' || pathname.startsWith('/dist/')) {
      file = inside(path.resolve(distDir), pathname.slice('/dist'.length))
    } else {
      file = inside(rootDir, pathname.endsWith('/') ? `${pathname}${index}` : pathname)
    }
    if (file && (await sendFile(req, res, file))) return

    const hasExtension = path.posix.extname(pathname) !== ''
    if (spaFallback && !hasExtension && !pathname.startsWith('/dist/') && (await sendFile(req, res, path.join(rootDir, index)))) return

    res.writeHead(404, { ...commonHeaders(req), 'Content-Type': 'text/plain; charset=utf-8' })
    res.end('not found')
  }

  return {
    url: origin,
    origin,
    port: actualPort,
    requests,
    /** Answers 503 to every path matching `pattern` from now on (`undefined`: serves them again). */
    refuse(pattern) {
      refused = pattern
    },
    async close() {
      await stopServer(server)
    },
  }
}
