// A minimal OAuth client in Node, used only to check the e2e infrastructure (provider, API)
// independently of the SDK, and to post tokens to the provider from outside the browser.
import { createHash, randomBytes, randomUUID } from 'node:crypto'

import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose'

const b64url = (buf) => Buffer.from(buf).toString('base64url')

export function pkcePair() {
  const verifier = b64url(randomBytes(32))
  const challenge = createHash('sha256').update(verifier).digest('base64url')
  return { verifier, challenge }
}

/** Decodes a JWT's header and payload without verifying it (tests only). */
export function decodeJwt(token) {
  const [h, p] = String(token).split('.')
  return { header: JSON.parse(Buffer.from(h, 'base64url')), payload: JSON.parse(Buffer.from(p, 'base64url')) }
}

class CookieJar {
  #cookies = new Map()
  store(response) {
    for (const line of response.headers.getSetCookie?.() ?? []) {
      const [pair, ...attrs] = line.split(';')
      const eq = pair.indexOf('=')
      const name = pair.slice(0, eq).trim()
      const value = pair.slice(eq + 1).trim()
      const expired = attrs.some((a) => /^\s*expires=Thu, 01 Jan 1970/i.test(a)) || value === ''
      if (expired) this.#cookies.delete(name)
      else this.#cookies.set(name, value)
    }
  }
  header() {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ')
  }
}

export async function createDpopKey(alg = 'ES256') {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true })
  const jwk = await exportJWK(publicKey)
  const thumbprint = await calculateJwkThumbprint(jwk, 'sha256')
  return {
    alg,
    jwk,
    thumbprint,
    async proof(htm, htu, { accessToken, nonce, iat, jti } = {}) {
      const payload = { htm, htu, jti: jti ?? randomUUID(), iat: iat ?? Math.floor(Date.now() / 1000) }
      if (nonce) payload.nonce = nonce
      if (accessToken) payload.ath = createHash('sha256').update(accessToken).digest('base64url')
      return new SignJWT(payload).setProtectedHeader({ alg, typ: 'dpop+jwt', jwk }).sign(privateKey)
    },
  }
}

/**
 * Runs an authorization code + PKCE sign-in against the e2e provider with fetch, filling the
 * provider's login form like a browser would. Returns { callbackUrl, params, verifier, ... }.
 */
export async function authorize({ issuer, clientId, redirectUri, scope = 'openid profile email offline_access', resource, username = 'alice', password = 'wonderland', abort = false, extra = {} }) {
  const jar = new CookieJar()
  const { verifier, challenge } = pkcePair()
  const state = b64url(randomBytes(16))
  const nonce = b64url(randomBytes(16))
  const auth = new URL('/auth', issuer)
  const params = { client_id: clientId, redirect_uri: redirectUri, response_type: 'code', scope, state, nonce, code_challenge: challenge, code_challenge_method: 'S256', ...extra }
  for (const [k, v] of Object.entries(params)) auth.searchParams.set(k, v)
  for (const r of [resource].flat().filter(Boolean)) auth.searchParams.append('resource', r)

  let url = auth.href
  let method = 'GET'
  let body
  const pages = []
  for (let hop = 0; hop < 10; hop++) {
    const res = await fetch(url, {
      method,
      body,
      redirect: 'manual',
      headers: { cookie: jar.header(), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}), accept: 'text/html' },
    })
    jar.store(res)
    if (res.status >= 300 && res.status < 400) {
      const next = new URL(res.headers.get('location'), url)
      await res.arrayBuffer()
      if (next.href.startsWith(redirectUri)) {
        return { callbackUrl: next.href, callback: Object.fromEntries(next.searchParams), state, nonce, verifier, pages }
      }
      url = next.href
      method = 'GET'
      body = undefined
      continue
    }
    const html = await res.text()
    pages.push({ url, status: res.status, html })
    const action = /<form id="(?:login-form|abort-form)"[^>]*>/.test(html)
      ? html.match(abort ? /<form id="abort-form" method="post" action="([^"]+)"/ : /<form id="login-form" method="post" action="([^"]+)"/)?.[1]
      : undefined
    if (!action || res.status !== 200) throw new Error(`unexpected page at ${url}: ${res.status} ${html.slice(0, 300)}`)
    url = new URL(action, url).href
    method = 'POST'
    body = abort ? '' : new URLSearchParams({ login: username, password }).toString()
    if (!abort && pages.length > 1) throw new Error('login form shown twice (wrong credentials?)')
  }
  throw new Error('too many redirects')
}

export async function tokenRequest(issuer, params, { dpop, nonce, origin } = {}) {
  const endpoint = new URL('/token', issuer).href
  const headers = { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }
  if (origin) headers.origin = origin
  if (dpop) headers.dpop = await dpop.proof('POST', endpoint, { nonce })
  const body = new URLSearchParams()
  for (const [k, v] of Object.entries(params)) for (const item of [v].flat()) if (item !== undefined) body.append(k, item)
  const res = await fetch(endpoint, { method: 'POST', headers, body })
  return { status: res.status, headers: res.headers, json: await res.json() }
}

export function redeemCode(issuer, { clientId, redirectUri, code, verifier, resource }, opts) {
  return tokenRequest(issuer, { grant_type: 'authorization_code', client_id: clientId, redirect_uri: redirectUri, code, code_verifier: verifier, resource }, opts)
}

export function refresh(issuer, { clientId, refreshToken, resource, scope }, opts) {
  return tokenRequest(issuer, { grant_type: 'refresh_token', client_id: clientId, refresh_token: refreshToken, resource, scope }, opts)
}

export async function revoke(issuer, { clientId, token, hint = 'refresh_token' }) {
  const res = await fetch(new URL('/token/revocation', issuer), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ client_id: clientId, token, token_type_hint: hint }),
  })
  await res.arrayBuffer()
  return res.status
}

/** Calls the API; with `dpop`, uses the DPoP scheme and a fresh proof. */
export async function callApi(url, accessToken, { method = 'GET', dpop, nonce, scheme, body, proofOverrides } = {}) {
  const headers = {}
  if (accessToken) headers.authorization = `${scheme ?? (dpop ? 'DPoP' : 'Bearer')} ${accessToken}`
  if (dpop) {
    const u = new URL(url)
    headers.dpop = await dpop.proof(method, `${u.origin}${u.pathname}`, { accessToken, nonce, ...proofOverrides })
  }
  const res = await fetch(url, { method, headers, body, redirect: 'manual' })
  const text = await res.text()
  let json
  try {
    json = JSON.parse(text)
  } catch {
    json = undefined
  }
  return { status: res.status, headers: res.headers, json, wwwAuthenticate: res.headers.get('www-authenticate'), dpopNonce: res.headers.get('dpop-nonce') }
}
