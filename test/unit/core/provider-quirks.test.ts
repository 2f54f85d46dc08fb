/**
 * What real providers do that the bundled one does not (issue 14): a refresh refused with a bare
 * 400, revocation that wants client authentication, RP-initiated logout that needs `state`,
 * profile claims only in UserInfo, refresh tokens with characters outside b64token. The same
 * behaviours are shown against Glewlwyd and Better Auth in test/e2e/providers/.
 */
import 'fake-indexeddb/auto'
import { URL as NodeURL } from 'node:url'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createOAuthClient } from '../../../src/index.js'
import type { OAuthClient, OAuthClientOptions, OAuthError } from '../../../src/index.js'
import { API, APP, clientOptions, installScriptedProvider, json, signIn, type ScriptedProvider } from '../helpers/scripted-provider.js'
import { dumpNamespace } from '../helpers/idb.js'

let p: ScriptedProvider
let options: OAuthClientOptions
let auth: OAuthClient
beforeEach(() => {
  p = installScriptedProvider()
  window.history.replaceState(null, '', `${APP}/`)
  sessionStorage.clear()
})
afterEach(() => p.restore())

async function signedIn(extra: Partial<OAuthClientOptions> = {}) {
  options = clientOptions(p, extra)
  auth = createOAuthClient(options)
  return signIn(auth, p)
}
/** A new page (the refreshes below are forced: the session caps the leeway at a share of a token's life). */
async function expireNow(): Promise<void> {
  auth = createOAuthClient({ ...options, refreshLeewaySeconds: 7200 })
  await new Promise((r) => setTimeout(r, 0))
}
const refreshGrants = () => p.to('/token').filter((r) => new URLSearchParams(r.body).get('grant_type') === 'refresh_token')
const errorsOf = (client: OAuthClient) => {
  const errors: OAuthError[] = []
  client.on('error', ({ error }) => errors.push(error))
  return errors
}

describe('a refused refresh is decided by status, not by whether the body parsed', () => {
  it('a bare 400 (no JSON, as Glewlwyd answers a dead refresh token) is invalid_grant and ends the session', async () => {
    await signedIn()
    await expireNow()
    const expired: OAuthError[] = []
    auth.on('session_expired', ({ error }) => expired.push(error))
    p.token = () => new Response(null, { status: 400 })
    await expect(auth.getAccessToken({ forceRefresh: true })).rejects.toMatchObject({ code: 'login_required' })
    expect(expired.map((e) => [e.code, e.status])).toEqual([['invalid_grant', 400]])
    expect(auth.getSnapshot().status).toBe('unauthenticated')
    expect(await dumpNamespace(p.clientId, ['access_tokens', 'id_tokens', 'refresh_tokens'])).toEqual({})
    // No endless retries with a dead token: the next call sends nothing.
    await expect(auth.getAccessToken({ forceRefresh: true })).rejects.toMatchObject({ code: 'login_required' })
    expect(refreshGrants()).toHaveLength(1)
  })

  it('a 401 with an HTML body or a Bearer challenge is the refresh token\'s refusal too', async () => {
    await signedIn()
    await expireNow()
    p.token = () => new Response('<h1>Unauthorized</h1>', { status: 401, headers: { 'content-type': 'text/html', 'www-authenticate': 'Bearer error="invalid_token"' } })
    await expect(auth.getAccessToken({ forceRefresh: true })).rejects.toMatchObject({ code: 'login_required' })
    expect(auth.getSnapshot().status).toBe('unauthenticated')
  })

  it('a 400 invalid_scope for a narrower scope refuses only that scope: the session is kept', async () => {
    await signedIn()
    p.token = () => json({ error: 'invalid_scope' }, 400)
    await expect(auth.getAccessToken({ scope: 'openid' })).rejects.toMatchObject({ code: 'authorization_error', error: 'invalid_scope' })
    expect(auth.getSnapshot().status).toBe('authenticated')
    expect(await dumpNamespace(p.clientId, ['refresh_tokens'])).not.toEqual({})
  })

  it('a 200 that is not JSON (a proxy or firewall page) keeps the session and the refresh token: network_error', async () => {
    await signedIn()
    await expireNow()
    p.token = () => new Response('<html>blocked by policy</html>', { status: 200, headers: { 'content-type': 'text/html' } })
    await expect(auth.getAccessToken({ forceRefresh: true })).rejects.toMatchObject({ code: 'network_error' })
    expect(auth.getSnapshot().status).toBe('authenticated')
    p.token = () => new Response('<html>blocked</html>', { status: 200, headers: { 'content-type': 'application/json' } })
    await expect(auth.getAccessToken({ forceRefresh: true })).rejects.toMatchObject({ code: 'network_error' })
    expect(auth.getSnapshot().status).toBe('authenticated')
    // The refresh token is kept (the session's back-off decides when the next refresh goes out).
    expect(await dumpNamespace(p.clientId, ['refresh_tokens'])).not.toEqual({})
  })

  it('a 502 with an HTML body keeps the session', async () => {
    await signedIn()
    await expireNow()
    p.token = () => new Response('<h1>Bad gateway</h1>', { status: 502, headers: { 'content-type': 'text/html' } })
    await expect(auth.getAccessToken({ forceRefresh: true })).rejects.toMatchObject({ code: 'network_error', status: 502 })
    expect(auth.getSnapshot().status).toBe('authenticated')
  })
})

describe('revocation', () => {
  it('a 401 from the revocation endpoint is reported as the refusal it is, not as network_error', async () => {
    await signedIn()
    p.metadata['revocation_endpoint'] = `${API}/revoke`
    p.api = () => new Response(null, { status: 401, headers: { 'www-authenticate': 'Basic realm="glewlwyd"' } })
    auth = createOAuthClient(options)
    const errors = errorsOf(auth)
    await auth.logout()
    expect(errors.map((e) => [e.code, e.status])).toEqual([['authorization_error', 401]])
    expect(auth.getSnapshot().status).toBe('unauthenticated')
  })

  it('is not tried when revocation_endpoint_auth_methods_supported lists no "none" (public clients are not accepted)', async () => {
    p.metadata['revocation_endpoint_auth_methods_supported'] = ['client_secret_basic']
    await signedIn()
    const errors = errorsOf(auth)
    await auth.logout()
    expect(p.to('/revoke')).toHaveLength(0)
    expect(errors).toEqual([])
  })

  it('is tried when the list has "none"', async () => {
    p.metadata['revocation_endpoint_auth_methods_supported'] = ['client_secret_basic', 'none']
    await signedIn()
    await auth.logout()
    expect(p.to('/revoke')).toHaveLength(1)
  })
})

describe('RP-initiated logout carries a fresh state, checked on return (checklist 56)', () => {
  async function logoutUrl(): Promise<URL> {
    await signedIn()
    await auth.logout()
    return new URL(p.navigations.at(-1)!)
  }

  it('sends a fresh state with post_logout_redirect_uri, a new one each time', async () => {
    const first = await logoutUrl()
    const second = await logoutUrl()
    expect(first.searchParams.get('state')).toMatch(/^[\w-]{20,}$/)
    expect(second.searchParams.get('state')).toMatch(/^[\w-]{20,}$/)
    expect(first.searchParams.get('state')).not.toBe(second.searchParams.get('state'))
  })

  it('the same state coming back is accepted and stripped from the address bar; nothing reported', async () => {
    const end = await logoutUrl()
    window.history.replaceState(null, '', `${APP}/?state=${end.searchParams.get('state')}&keep=1`)
    const page = createOAuthClient(options)
    const errors = errorsOf(page)
    await new Promise((r) => setTimeout(r, 10))
    expect(errors).toEqual([])
    expect(location.href).toBe(`${APP}/?keep=1`)
  })

  it('another state, or none, is reported as invalid_state; the session stays ended', async () => {
    await logoutUrl()
    window.history.replaceState(null, '', `${APP}/?state=forged`)
    let page = createOAuthClient(options)
    let errors = errorsOf(page)
    await vi.waitFor(() => expect(errors.map((e) => e.code)).toEqual(['invalid_state']))
    expect(page.getSnapshot().status).not.toBe('authenticated')

    await logoutUrl()
    window.history.replaceState(null, '', `${APP}/`)
    page = createOAuthClient(options)
    errors = errorsOf(page)
    await vi.waitFor(() => expect(errors.map((e) => e.code)).toEqual(['invalid_state']))
    // Checked once: a reload of the page reports nothing more.
    page = createOAuthClient(options)
    const later = errorsOf(page)
    await new Promise((r) => setTimeout(r, 10))
    expect(later).toEqual([])
  })
})

describe('opt-in UserInfo', () => {
  beforeEach(() => {
    p.metadata['userinfo_endpoint'] = `${API}/userinfo`
    // oauth4webapi parses endpoints with the URL.parse it captured when loaded (Node's) and its
    // userInfoRequest checks `instanceof URL` against the global, which happy-dom replaces: one
    // URL class for both, as in a browser. (p.restore() unstubs it.)
    vi.stubGlobal('URL', NodeURL)
  })

  it('userInfo: true fetches it once per sign-in, with the access token, and merges it into the user', async () => {
    p.api = (req) =>
      req.url.pathname === '/userinfo'
        ? json({ sub: p.sub, name: 'Alice Liddell', email: 'alice@example.com', iss: 'https://evil.example', auth_time: 1 })
        : json({ ok: true })
    const { user } = await signedIn({ userInfo: true })
    const calls = p.requests.filter((r) => r.url.pathname === '/userinfo')
    expect(calls).toHaveLength(1)
    expect(calls[0]!.headers.get('authorization')).toMatch(/^Bearer at-/)
    expect(user).toMatchObject({ sub: p.sub, name: 'Alice Liddell', email: 'alice@example.com', iss: 'https://op.example' })
    expect(user?.['auth_time']).toBeUndefined()
    expect(auth.getUser()).toMatchObject({ email: 'alice@example.com' })
    // A reload reads the stored user: no second request.
    auth = createOAuthClient(options)
    await vi.waitFor(() => expect(auth.getSnapshot().status).toBe('authenticated'))
    expect(auth.getUser()).toMatchObject({ email: 'alice@example.com' })
    // A refreshed ID token keeps what UserInfo added.
    await auth.getAccessToken({ forceRefresh: true })
    expect(auth.getUser()).toMatchObject({ email: 'alice@example.com' })
    expect(p.requests.filter((r) => r.url.pathname === '/userinfo')).toHaveLength(1)
  })

  it('is not fetched by default', async () => {
    await signedIn()
    expect(p.requests.filter((r) => r.url.pathname === '/userinfo')).toHaveLength(0)
  })

  it('a UserInfo response about another sub is ignored and reported; the sign-in succeeds', async () => {
    p.api = () => json({ sub: 'mallory', name: 'Mallory' })
    options = clientOptions(p, { userInfo: true })
    auth = createOAuthClient(options)
    const errors = errorsOf(auth)
    const { user } = await signIn(auth, p)
    expect(user?.['name']).toBe('Alice')
    expect(errors.map((e) => e.code)).toEqual(['invalid_token_response'])
    expect(errors[0]!.message).toMatch(/another subject/)
    expect(auth.getSnapshot().status).toBe('authenticated')
  })

  it('a failing UserInfo endpoint does not fail the sign-in', async () => {
    p.api = () => new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_token"' } })
    options = clientOptions(p, { userInfo: true })
    auth = createOAuthClient(options)
    const errors = errorsOf(auth)
    await signIn(auth, p)
    expect(errors.map((e) => [e.code, e.status])).toEqual([['authorization_error', 401]])
    expect(auth.getSnapshot().status).toBe('authenticated')
  })

  it('userInfo must be a boolean', () => {
    expect(() => createOAuthClient({ ...clientOptions(p), userInfo: 'yes' as unknown as boolean })).toThrow(/userInfo/)
  })
})

describe('each token by its own syntax', () => {
  it('a refresh token with visible ASCII outside b64token (RFC 6749 §A.17 VSCHAR) is accepted and used', async () => {
    p.token = () => json(p.tokens({ refresh_token: 'rt:with spaces,"quotes"&{braces}' }))
    await signedIn()
    await expireNow()
    p.token = () => json(p.tokens())
    await expect(auth.getAccessToken({ forceRefresh: true })).resolves.toMatch(/^at-/)
    expect(new URLSearchParams(refreshGrants()[0]!.body).get('refresh_token')).toBe('rt:with spaces,"quotes"&{braces}')
  })

  it('a refresh token with a control character is still refused', async () => {
    p.token = () => json(p.tokens({ refresh_token: 'rt\r\nX-Injected: 1' }))
    options = clientOptions(p)
    auth = createOAuthClient(options)
    await expect(signIn(auth, p)).rejects.toMatchObject({ code: 'invalid_token_response' })
  })

  it('an access token outside b64token is still refused (it rides in a header)', async () => {
    p.token = () => json(p.tokens({ access_token: 'at with space' }))
    options = clientOptions(p)
    auth = createOAuthClient(options)
    await expect(signIn(auth, p)).rejects.toMatchObject({ code: 'invalid_token_response' })
  })
})
