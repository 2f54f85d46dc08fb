// Helpers for the hostile and stress e2e suites (hostile.spec.mjs, stress.spec.mjs).
//
// - thin wrappers over the test app's window.e2e (plain data, never throw)
// - a CSP whose connect-src is filled in by the test once the servers exist (`liveCsp`)
// - an HTTPS + HTTP/2 reverse proxy in front of the API: Chromium sends streaming request bodies
//   (`duplex: 'half'`) only over HTTP/2 or QUIC, and only over TLS, so a stream test needs one;
//   the certificate is self-signed, generated here in plain JS (no openssl needed)
// - recorders for CSP violations and for the Referer of every request of a browser context
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto'
import http from 'node:http'
import http2 from 'node:http2'

import { listen } from '../../../dev-provider/util.mjs'

export { call, snapshot, token } from './browser-helpers.mjs'
export const statuses = (page) => page.evaluate(() => window.__snapshots.map((s) => s.status))
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** The provider's next refresh answer: 400 invalid_grant (the refresh token is dead). */
export function refuseNextRefresh(servers, count = 1) {
  servers.provider.faults.set({
    mode: 'status',
    status: 400,
    count,
    body: JSON.stringify({ error: 'invalid_grant', error_description: 'grant request is invalid' }),
    headers: { 'Content-Type': 'application/json; charset=utf-8' },
  })
}

/** Every secret-looking value of a token response, for "is it anywhere else?" checks. */
export function secretsOf(...values) {
  return values.filter((v) => typeof v === 'string' && v.length >= 16)
}

/** Which of `secrets` (or a 24-character prefix of one) occur in `haystack` (any value, stringified). */
export function leaked(secrets, haystack) {
  const text = typeof haystack === 'string' ? haystack : JSON.stringify(haystack)
  return secrets.filter((s) => text.includes(s) || text.includes(s.slice(0, 24))).map((s) => `${s.slice(0, 6)}…(${s.length} chars)`)
}

/**
 * A `stack.static.csp` option whose connect-src is whatever the test puts in `live.connect` (set it
 * before the first page load: the policy is computed per request), plus `extra` directives.
 */
export function liveCsp(live, extra) {
  return { connectSrc: () => live.connect ?? [], ...(extra ? { extra } : {}) }
}

/** The usual connect-src origins of the e2e stack. */
export function stackOrigins(servers) {
  return [servers.provider.issuer, servers.api.origin, servers.echo.origin]
}

// ---------------------------------------------------------------------------------------------
// A self-signed certificate for 127.0.0.1 (ECDSA P-256), DER built by hand.

function derLength(n) {
  if (n < 0x80) return Buffer.from([n])
  const bytes = []
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff)
  return Buffer.from([0x80 | bytes.length, ...bytes])
}
const der = (tag, ...parts) => {
  const body = Buffer.concat(parts)
  return Buffer.concat([Buffer.from([tag]), derLength(body.length), body])
}
const seq = (...p) => der(0x30, ...p)
const set = (...p) => der(0x31, ...p)
const int = (buf) => der(0x02, buf[0] & 0x80 ? Buffer.concat([Buffer.from([0]), buf]) : buf)
const utf8 = (s) => der(0x0c, Buffer.from(s, 'utf8'))
const utcTime = (d) => der(0x17, Buffer.from(`${d.toISOString().replace(/[-:T]/g, '').slice(2, 14)}Z`))
const bitString = (buf) => der(0x03, Buffer.concat([Buffer.from([0]), buf]))
const octets = (buf) => der(0x04, buf)
const explicit = (n, ...p) => der(0xa0 + n, ...p)
function oid(dotted) {
  const [a, b, ...rest] = dotted.split('.').map(Number)
  const bytes = [40 * a + b]
  for (const n of rest) {
    const chunk = [n & 0x7f]
    for (let v = Math.floor(n / 128); v > 0; v = Math.floor(v / 128)) chunk.unshift(0x80 | (v & 0x7f))
    bytes.push(...chunk)
  }
  return der(0x06, Buffer.from(bytes))
}

/** { cert, key } in PEM: a one-day self-signed certificate for CN/IP 127.0.0.1. */
export function selfSignedCert() {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' })
  const ecdsaWithSha256 = seq(oid('1.2.840.10045.4.3.2'))
  const name = seq(set(seq(oid('2.5.4.3'), utf8('127.0.0.1'))))
  const now = Date.now()
  const validity = seq(utcTime(new Date(now - 60_000)), utcTime(new Date(now + 24 * 3600_000)))
  const subjectAltName = seq(oid('2.5.29.17'), octets(seq(der(0x87, Buffer.from([127, 0, 0, 1])))))
  const serial = randomBytes(8)
  serial[0] = (serial[0] & 0x7f) | 0x01
  const tbs = seq(
    explicit(0, int(Buffer.from([2]))),
    int(serial),
    ecdsaWithSha256,
    name,
    validity,
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, seq(subjectAltName)),
  )
  const certificate = seq(tbs, ecdsaWithSha256, bitString(sign('sha256', tbs, privateKey)))
  const cert = `-----BEGIN CERTIFICATE-----\n${certificate.toString('base64').match(/.{1,64}/g).join('\n')}\n-----END CERTIFICATE-----\n`
  // fail here, not in the TLS handshake, if the encoding is wrong
  if (!new X509Certificate(cert).checkPrivateKey(privateKey)) throw new Error('selfSignedCert: key mismatch')
  return { cert, key: privateKey.export({ type: 'pkcs8', format: 'pem' }) }
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'http2-settings', 'proxy-connection', 'host'])

/**
 * An HTTPS reverse proxy that speaks HTTP/2 (and HTTP/1.1) to the browser and plain HTTP/1.1 to
 * `target`, streaming bodies both ways. The page's context needs `ignoreHTTPSErrors: true`.
 * `requests` lists what the browser sent through it: { at, method, path, httpVersion, status }.
 */
export async function startH2Proxy({ target }) {
  const upstream = new URL(target)
  const { cert, key } = selfSignedCert()
  const requests = []
  const sessions = new Set()
  const server = http2.createSecureServer({ cert, key, allowHTTP1: true })
  server.on('session', (s) => {
    sessions.add(s)
    s.on('close', () => sessions.delete(s))
  })
  server.on('request', (req, res) => {
    const record = { at: Date.now(), method: req.method, path: req.url, httpVersion: req.httpVersion }
    requests.push(record)
    const headers = {}
    for (const [k, v] of Object.entries(req.headers)) if (!k.startsWith(':') && !HOP_BY_HOP.has(k)) headers[k] = v
    headers.host = upstream.host
    const forward = http.request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers }, (answer) => {
      record.status = answer.statusCode
      const out = {}
      for (const [k, v] of Object.entries(answer.headers)) if (!HOP_BY_HOP.has(k)) out[k] = v
      res.writeHead(answer.statusCode, out)
      answer.pipe(res)
    })
    forward.on('error', (err) => {
      record.error = err.message
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' })
      res.end()
    })
    req.pipe(forward)
  })
  const port = await listen(server, 0)
  return {
    origin: `https://127.0.0.1:${port}`,
    requests,
    async close() {
      for (const s of sessions) s.destroy()
      await new Promise((resolve) => server.close(() => resolve()))
    },
  }
}

// ---------------------------------------------------------------------------------------------
// Recorders

/**
 * Records CSP violations of every page of `context` (a `securitypolicyviolation` listener added by
 * an init script, reported through a binding, so it survives navigations) and CSP/Trusted Types
 * console errors. Call before opening pages.
 */
export async function recordCspViolations(context) {
  const violations = []
  const consoleErrors = []
  await context.exposeBinding('__e2eCspViolation', (source, v) => {
    violations.push({ ...v, page: source.frame?.url?.() ?? null })
  })
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__e2eCspViolation?.({
        directive: e.violatedDirective,
        effectiveDirective: e.effectiveDirective,
        blockedURI: e.blockedURI,
        documentURI: e.documentURI,
        sample: e.sample,
        disposition: e.disposition,
        sourceFile: e.sourceFile,
        line: e.lineNumber,
      })
    })
  })
  const watch = (page) => {
    page.on('console', (m) => {
      const text = m.text()
      if (m.type() === 'error' && /Content Security Policy|Trusted ?Type|Refused to/i.test(text)) consoleErrors.push({ page: page.url(), text })
    })
  }
  context.pages().forEach(watch)
  context.on('page', watch)
  return { violations, consoleErrors }
}

/**
 * Records the Referer of every request the pages of `context` send (headers as the network
 * stack sent them, via allHeaders()): [{ url, method, referer, navigation, at, page }].
 */
export function recordRequests(context) {
  const list = []
  const pending = []
  context.on('request', (request) => {
    const entry = { at: Date.now(), url: request.url(), method: request.method(), navigation: request.isNavigationRequest(), referer: undefined }
    list.push(entry)
    pending.push(
      request.allHeaders().then(
        (h) => {
          entry.referer = h.referer ?? null
        },
        () => {
          entry.referer = request.headers().referer ?? null
        },
      ),
    )
  })
  return {
    list,
    /** Waits until every recorded request's headers are known. */
    async settle() {
      await Promise.allSettled(pending)
      return list
    },
  }
}

/** sha256 hex of a string, as the API records request bodies. */
export const sha256hex = (s) => createHash('sha256').update(s).digest('hex')

/** The refresh-token grants in the provider's event log, oldest first. */
export function refreshGrants(provider) {
  return provider.stats.events.filter((e) => e.type === 'grant.success' && e.grantType === 'refresh_token')
}

/** The provider's event log, compact, for annotations. */
export function eventLog(provider, since = 0) {
  const t0 = provider.stats.events[0]?.at ?? 0
  return provider.stats.events
    .filter((e) => e.at >= since)
    .map((e) => ({ ...e, t: e.at - t0, at: undefined }))
}
