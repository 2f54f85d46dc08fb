// Checks of the e2e infrastructure itself (provider, API, static and echo servers), from Node,
// without the SDK or a browser: if one of these fails, the browser scenarios cannot be trusted.
import { decodeJwt } from 'jose'

import { expect, test } from './fixtures.mjs'
import { authorize, callApi, createDpopKey, redeemCode, refresh, revoke, tokenRequest } from './support/node-client.mjs'

async function signInFromNode(servers, opts = {}) {
  const { provider, api } = servers
  const auth = await authorize({ issuer: provider.issuer, clientId: servers.clientId, redirectUri: servers.redirectUri, resource: api.audience, ...opts })
  expect(auth.callback.state).toBe(auth.state)
  expect(auth.callback.iss).toBe(provider.issuer)
  expect(auth.callback.code).toBeTruthy()
  const tokens = await redeemCode(provider.issuer, {
    clientId: servers.clientId,
    redirectUri: servers.redirectUri,
    code: auth.callback.code,
    verifier: auth.verifier,
    resource: opts.tokenResource,
  }, { dpop: opts.dpop, origin: servers.app.origin })
  return { auth, tokens }
}

test.describe('provider', () => {
  test('discovery advertises what the SDK relies on', async ({ servers }) => {
    const res = await fetch(`${servers.provider.issuer}/.well-known/openid-configuration`, { headers: { origin: servers.app.origin } })
    expect(res.headers.get('access-control-allow-origin')).toBe(servers.app.origin)
    const meta = await res.json()
    expect(meta).toMatchObject({
      issuer: servers.provider.issuer,
      authorization_response_iss_parameter_supported: true,
      code_challenge_methods_supported: ['S256'],
      revocation_endpoint: `${servers.provider.issuer}/token/revocation`,
      end_session_endpoint: `${servers.provider.issuer}/session/end`,
      dpop_signing_alg_values_supported: expect.arrayContaining(['ES256']),
    })
    expect(meta.token_endpoint_auth_methods_supported).toContain('none')
    expect(meta.id_token_signing_alg_values_supported).not.toContain('none')
  })

  test('code flow: login form, iss in the response, JWT access token for the API, refresh token without prompt=consent', async ({ servers }) => {
    const { provider, api } = servers
    const { auth, tokens } = await signInFromNode(servers)
    expect(auth.pages[0].html).toContain('name="login"')
    expect(auth.pages[0].html).not.toMatch(/https?:\/\/(?!127\.0\.0\.1)/) // no external resources
    expect(tokens.status).toBe(200)
    expect(tokens.json).toMatchObject({ token_type: 'Bearer', expires_in: 600 })
    expect(typeof tokens.json.refresh_token).toBe('string')
    expect(typeof tokens.json.id_token).toBe('string')
    const at = decodeJwt(tokens.json.access_token)
    expect(at).toMatchObject({ iss: provider.issuer, aud: api.audience, sub: 'alice', client_id: servers.clientId })
    const id = decodeJwt(tokens.json.id_token)
    expect(id).toMatchObject({ iss: provider.issuer, aud: servers.clientId, sub: 'alice', nonce: auth.nonce, email: 'alice@example.test' })
    expect(provider.stats.grants.authorization_code).toBe(1)
    expect(provider.stats.logins.ok).toBe(1)

    const me = await callApi(`${api.url}/api/me`, tokens.json.access_token)
    expect(me.status).toBe(200)
    expect(me.json).toMatchObject({ sub: 'alice', aud: api.audience })
    expect(api.stats.schemes).toEqual(['Bearer'])
  })

  test('refresh rotates, keeps the API audience with and without `resource`, and refuses the rotated-out token', async ({ servers }) => {
    const { provider, api } = servers
    const { tokens } = await signInFromNode(servers)
    const rt0 = tokens.json.refresh_token

    const r1 = await refresh(provider.issuer, { clientId: servers.clientId, refreshToken: rt0 })
    expect(r1.status).toBe(200)
    expect(r1.json.refresh_token).not.toBe(rt0)
    expect(decodeJwt(r1.json.access_token).aud).toBe(api.audience)
    expect(typeof r1.json.id_token).toBe('string')

    const r2 = await refresh(provider.issuer, { clientId: servers.clientId, refreshToken: r1.json.refresh_token, resource: api.audience })
    expect(r2.status).toBe(200)
    expect(decodeJwt(r2.json.access_token).aud).toBe(api.audience)
    expect((await callApi(`${api.url}/api/me`, r2.json.access_token)).status).toBe(200)
    expect(provider.stats.grants.refresh_token).toBe(2)
    expect(provider.stats.refreshTokensConsumed).toBe(2)

    const reuse = await refresh(provider.issuer, { clientId: servers.clientId, refreshToken: rt0 })
    expect(reuse.status).toBe(400)
    expect(reuse.json.error).toBe('invalid_grant')
    expect(provider.stats.errors.invalid_grant).toBe(1)
    // reuse detection revokes the whole grant: the newest refresh token dies too
    const after = await refresh(provider.issuer, { clientId: servers.clientId, refreshToken: r2.json.refresh_token })
    expect(after.json.error).toBe('invalid_grant')
  })

  test('an unknown resource is refused at the token endpoint (invalid_target)', async ({ servers }) => {
    const { tokens } = await signInFromNode(servers)
    const r = await refresh(servers.provider.issuer, { clientId: servers.clientId, refreshToken: tokens.json.refresh_token, resource: 'http://127.0.0.1:1/' })
    expect(r.status).toBe(400)
    expect(r.json.error).toBe('invalid_target')
  })

  test('revocation ends the refresh token', async ({ servers }) => {
    const { provider } = servers
    const { tokens } = await signInFromNode(servers)
    expect(await revoke(provider.issuer, { clientId: servers.clientId, token: tokens.json.refresh_token })).toBe(200)
    expect(provider.stats.revocations).toBe(1)
    const r = await refresh(provider.issuer, { clientId: servers.clientId, refreshToken: tokens.json.refresh_token })
    expect(r.json.error).toBe('invalid_grant')
  })

  test('CORS: the app origin may call the token endpoint, another origin may not', async ({ servers }) => {
    const { provider } = servers
    const pre = await fetch(`${provider.issuer}/token`, {
      method: 'OPTIONS',
      headers: { origin: servers.app.origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'dpop,content-type' },
    })
    expect(pre.status).toBe(204)
    expect(pre.headers.get('access-control-allow-origin')).toBe(servers.app.origin)
    const evil = await tokenRequest(provider.issuer, { grant_type: 'refresh_token', client_id: servers.clientId, refresh_token: 'x' }, { origin: 'http://127.0.0.1:9' })
    expect(evil.status).toBe(400)
    expect(evil.headers.get('access-control-allow-origin')).toBeNull()
  })

  test('wrong password shows the form again; Cancel answers access_denied with state and iss', async ({ servers }) => {
    const { provider } = servers
    await expect(authorize({ issuer: provider.issuer, clientId: servers.clientId, redirectUri: servers.redirectUri, password: 'nope' })).rejects.toThrow(/login form shown twice/)
    expect(provider.stats.logins.failed).toBe(1)
    const denied = await authorize({ issuer: provider.issuer, clientId: servers.clientId, redirectUri: servers.redirectUri, abort: true })
    expect(denied.callback).toMatchObject({ error: 'access_denied', state: denied.state, iss: provider.issuer })
    expect(denied.callback.code).toBeUndefined()
  })

  test('end-session without a provider session auto-submits to the confirm endpoint', async ({ servers }) => {
    const { provider } = servers
    // Unauthenticated end-session (no provider session cookie here): auto-submitting form.
    const res = await fetch(`${provider.issuer}/session/end?client_id=${servers.clientId}&post_logout_redirect_uri=${encodeURIComponent(servers.postLogoutRedirectUri)}`)
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain('/session/end/confirm')
  })
})

test.describe('provider with DPoP', () => {
  test.use({ stack: { provider: { dpop: { requireNonce: true } }, api: { dpop: { requireNonce: true } } } })

  test('DPoP-bound tokens: provider nonce, API proof checks, Bearer downgrade refused', async ({ servers }) => {
    const { provider, api } = servers
    const key = await createDpopKey()
    const auth = await authorize({ issuer: provider.issuer, clientId: servers.clientId, redirectUri: servers.redirectUri, resource: api.audience })
    const params = { clientId: servers.clientId, redirectUri: servers.redirectUri, code: auth.callback.code, verifier: auth.verifier }

    const first = await redeemCode(provider.issuer, params, { dpop: key })
    expect(first.status).toBe(400)
    expect(first.json.error).toBe('use_dpop_nonce')
    const nonce = first.headers.get('dpop-nonce')
    expect(nonce).toBeTruthy()
    const tokens = await redeemCode(provider.issuer, params, { dpop: key, nonce })
    expect(tokens.status).toBe(200)
    expect(tokens.json.token_type).toBe('DPoP')
    const at = tokens.json.access_token
    expect(decodeJwt(at).cnf).toEqual({ jkt: key.thumbprint })

    const me = `${api.url}/api/me`
    const noNonce = await callApi(me, at, { dpop: key })
    expect(noNonce.status).toBe(401)
    expect(noNonce.wwwAuthenticate).toMatch(/^DPoP error="use_dpop_nonce"/)
    expect(noNonce.dpopNonce).toBe(api.dpopNonce)

    const ok = await callApi(me, at, { dpop: key, nonce: noNonce.dpopNonce })
    expect(ok.status).toBe(200)
    expect(ok.json.sub).toBe('alice')

    const asBearer = await callApi(me, at)
    expect(asBearer.status).toBe(401)
    expect(asBearer.wwwAuthenticate).toMatch(/^Bearer error="invalid_token"/)

    const badAth = await callApi(me, at, { dpop: key, nonce: api.dpopNonce, proofOverrides: { accessToken: 'other' } })
    expect(badAth.wwwAuthenticate).toMatch(/^DPoP error="invalid_dpop_proof"/)

    const otherKey = await createDpopKey()
    const wrongKey = await callApi(me, at, { dpop: otherKey, nonce: api.dpopNonce })
    expect(wrongKey.wwwAuthenticate).toMatch(/^DPoP error="invalid_token"/)

    const replayed = await callApi(me, at, { dpop: key, nonce: api.dpopNonce, proofOverrides: { jti: 'fixed-jti' } })
    expect(replayed.status).toBe(200)
    const again = await callApi(me, at, { dpop: key, nonce: api.dpopNonce, proofOverrides: { jti: 'fixed-jti' } })
    expect(again.wwwAuthenticate).toMatch(/^DPoP error="invalid_dpop_proof", error_description="DPoP proof jti replayed"/)

    const stale = await callApi(me, at, { dpop: key, nonce: api.dpopNonce, proofOverrides: { iat: Math.floor(Date.now() / 1000) - 600 } })
    expect(stale.wwwAuthenticate).toMatch(/^DPoP error="invalid_dpop_proof"/)

    // a DPoP-bound refresh token needs a proof with the same key
    const noProof = await refresh(provider.issuer, { clientId: servers.clientId, refreshToken: tokens.json.refresh_token })
    expect(noProof.json.error).toBe('invalid_grant')
    expect(api.stats.unauthorized).toMatchObject({ use_dpop_nonce: 1, invalid_token: 2, invalid_dpop_proof: 3 })
  })
})

test.describe('API', () => {
  test('401 challenges and CORS', async ({ servers }) => {
    const { api } = servers
    const none = await callApi(`${api.url}/api/me`)
    expect(none.status).toBe(401)
    expect(none.wwwAuthenticate).toBe('Bearer realm="oauth-spa-demo-api"')
    const junk = await callApi(`${api.url}/api/me`, 'not.a.jwt')
    expect(junk.wwwAuthenticate).toMatch(/^Bearer error="invalid_token", error_description="/)
    expect(api.stats.schemes).toEqual(['none', 'Bearer'])

    const pre = await fetch(`${api.url}/api/me`, { method: 'OPTIONS', headers: { origin: servers.app.origin, 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization,dpop' } })
    expect(pre.status).toBe(204)
    expect(pre.headers.get('access-control-allow-origin')).toBe(servers.app.origin)
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/Authorization/)
    expect(pre.headers.get('access-control-allow-headers')).toMatch(/DPoP/)
    const other = await fetch(`${api.url}/api/me`, { method: 'OPTIONS', headers: { origin: 'http://127.0.0.1:9', 'access-control-request-method': 'GET' } })
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
    const get = await fetch(`${api.url}/api/public`, { headers: { origin: servers.app.origin } })
    expect(get.headers.get('access-control-expose-headers')).toBe('WWW-Authenticate, DPoP-Nonce')

    const redirect = await fetch(`${api.url}/api/redirect?to=${encodeURIComponent(`${servers.echo.url}/x`)}`, { redirect: 'manual' })
    expect(redirect.status).toBe(302)
    expect(redirect.headers.get('location')).toBe(`${servers.echo.url}/x`)
  })

  test('an expired or foreign token is refused', async ({ servers }) => {
    const { api, provider } = servers
    const { tokens } = await signInFromNode(servers)
    // a token for another audience (the provider's userinfo, opaque) is not a JWT for this API
    const opaque = await refresh(provider.issuer, { clientId: servers.clientId, refreshToken: tokens.json.refresh_token, scope: 'openid' })
    expect(opaque.status).toBe(200)
    const r = await callApi(`${api.url}/api/me`, `${tokens.json.access_token.slice(0, -4)}AAAA`)
    expect(r.status).toBe(401)
    expect(r.wwwAuthenticate).toMatch(/error="invalid_token"/)
  })
})

test.describe('static and echo servers', () => {
  test('MIME types, security headers, SPA fallback, /dist mapping, no traversal', async ({ servers }) => {
    const { app } = servers
    const index = await fetch(`${app.url}/`)
    expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8')
    expect(index.headers.get('referrer-policy')).toBe('no-referrer')
    const csp = index.headers.get('content-security-policy')
    expect(csp).toContain("script-src 'self'")
    expect(csp).toContain(`connect-src 'self' ${servers.provider.issuer} ${servers.api.origin} ${servers.echo.origin}`)
    expect(csp).toContain("object-src 'none'")
    const js = await fetch(`${app.url}/app.js`)
    expect(js.headers.get('content-type')).toBe('text/javascript; charset=utf-8')
    const callback = await fetch(`${app.url}/callback?code=x&state=y`)
    expect(callback.status).toBe(200)
    expect(await callback.text()).toContain('<script type="module" src="/app.js">')
    expect((await fetch(`${app.url}/missing.js`)).status).toBe(404)
    expect((await fetch(`${app.url}/..%2f..%2fpackage.json`)).status).not.toBe(200)
    const config = await (await fetch(`${app.url}/app-config.json`)).json()
    expect(config).toMatchObject({ issuer: servers.provider.issuer, clientId: servers.clientId, redirectUri: `${app.origin}/callback`, apiOrigins: [servers.api.origin], resource: servers.api.audience, allowInsecureRequests: true })
    const dist = await fetch(`${app.url}/dist/`)
    expect([404, 200]).toContain(dist.status)
  })

  test('echo server records headers and reports leaks', async ({ servers }) => {
    const { echo } = servers
    await fetch(`${echo.url}/a`)
    expect(echo.leaks()).toEqual([])
    await fetch(`${echo.url}/b`, { headers: { authorization: 'Bearer control' } })
    expect(echo.leaks()).toEqual([expect.objectContaining({ path: '/b' })])
    const pre = await fetch(`${echo.url}/c`, { method: 'OPTIONS', headers: { origin: 'null', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' } })
    expect(pre.headers.get('access-control-allow-headers')).toBe('authorization')
    expect(echo.leaks().map((l) => l.path)).toEqual(['/b', '/c'])
  })
})
