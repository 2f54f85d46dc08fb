import 'fake-indexeddb/auto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createOAuthClient, OAuthError } from '../../../src/index.js'
import { API, APP, clientOptions, installScriptedProvider, ISSUER, startLogin, type ScriptedProvider } from '../helpers/scripted-provider.js'
import { dumpNamespace } from '../helpers/idb.js'

let p: ScriptedProvider
beforeEach(() => {
  p = installScriptedProvider()
  window.history.replaceState(null, '', `${APP}/start?x=1`)
})
afterEach(() => p.restore())

describe('login() builds the authorization request', () => {
  it('checklist 1/2/32: code flow with PKCE S256, fresh 43-char verifier, state, nonce, scope, resource', async () => {
    const auth = createOAuthClient(clientOptions(p))
    const url = await startLogin(auth, p, { prompt: 'login', loginHint: 'alice@example.com', extraParams: { ui_locales: 'fr' } })
    expect(url.origin + url.pathname).toBe(`${ISSUER}/authorize`)
    const q = url.searchParams
    expect(q.get('response_type')).toBe('code')
    expect(q.get('client_id')).toBe(p.clientId)
    expect(q.get('redirect_uri')).toBe(`${APP}/callback`)
    expect(q.get('scope')).toBe('openid profile email offline_access')
    expect(q.get('code_challenge_method')).toBe('S256')
    expect(q.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(q.get('state')!.length).toBeGreaterThanOrEqual(22)
    expect(q.get('nonce')!.length).toBeGreaterThanOrEqual(22)
    expect(q.getAll('resource')).toEqual([API])
    expect(q.get('prompt')).toBe('login')
    expect(q.get('login_hint')).toBe('alice@example.com')
    expect(q.get('ui_locales')).toBe('fr')
    expect(q.has('response_mode')).toBe(false)
  })

  it('checklist 1: two logins use different challenges, states and nonces', async () => {
    const auth = createOAuthClient(clientOptions(p))
    const a = await startLogin(auth, p)
    const b = await startLogin(auth, p)
    for (const k of ['code_challenge', 'state', 'nonce']) expect(a.searchParams.get(k)).not.toBe(b.searchParams.get(k))
  })

  it('discovery is fetched once for the page, not per login', async () => {
    const auth = createOAuthClient(clientOptions(p))
    await startLogin(auth, p)
    await startLogin(auth, p)
    expect(p.to('/.well-known/openid-configuration')).toHaveLength(1)
  })

  it('createOAuthClient sends nothing: discovery is lazy', () => {
    createOAuthClient(clientOptions(p))
    expect(p.requests).toHaveLength(0)
  })

  it('checklist 1b: a provider without S256 gives configuration_error and no navigation', async () => {
    p.metadata['code_challenge_methods_supported'] = ['plain']
    const auth = createOAuthClient(clientOptions(p))
    await expect(auth.login()).rejects.toMatchObject({ code: 'configuration_error' })
    expect(p.navigations).toHaveLength(0)
  })

  it('checklist 21: metadata whose issuer differs from the configured one is refused', async () => {
    p.metadata['issuer'] = 'https://evil.example'
    const auth = createOAuthClient(clientOptions(p))
    const e = await auth.login().catch((x: unknown) => x)
    expect(e).toBeInstanceOf(OAuthError)
    expect((e as OAuthError).code).toBe('configuration_error')
    expect(p.navigations).toHaveLength(0)
  })

  it.each([
    ['a javascript: URL', 'javascript:void(window.__pwned=1)//'],
    ['an http URL under an https issuer', 'http://op.example/authorize'],
    ['a data: URL', 'data:text/html,<script>alert(1)</script>'],
    ['not a URL', 'not a url'],
  ])('checklist 20: an authorization_endpoint that is %s is refused: configuration_error, no navigation, no transaction', async (_name, endpoint) => {
    p.metadata['authorization_endpoint'] = endpoint
    const auth = createOAuthClient(clientOptions(p))
    await expect(auth.login()).rejects.toMatchObject({ code: 'configuration_error' })
    expect(p.navigations).toHaveLength(0)
    expect(await dumpNamespace(p.clientId, ['transactions'])).toEqual({})
    expect((window as unknown as { __pwned?: unknown }).__pwned).toBeUndefined()
  })

  it('extraParams cannot override what the SDK sets', async () => {
    const auth = createOAuthClient(clientOptions(p))
    for (const name of ['state', 'code_challenge_method', 'redirect_uri', 'response_mode', 'client_id']) {
      await expect(auth.login({ extraParams: { [name]: 'x' } })).rejects.toMatchObject({ code: 'configuration_error' })
    }
    expect(p.navigations).toHaveLength(0)
  })

  it('bad login options give configuration_error, not a TypeError', async () => {
    const auth = createOAuthClient(clientOptions(p))
    await expect(auth.login(42 as never)).rejects.toMatchObject({ code: 'configuration_error' })
    await expect(auth.login({ scope: 5 } as never)).rejects.toMatchObject({ code: 'configuration_error' })
  })

  it('PAR: required by the metadata, the browser only carries client_id and request_uri', async () => {
    p.metadata['require_pushed_authorization_requests'] = true
    const auth = createOAuthClient(clientOptions(p))
    const url = await startLogin(auth, p)
    expect([...url.searchParams.keys()].sort()).toEqual(['client_id', 'request_uri'])
    const par = p.to('/par')
    expect(par).toHaveLength(1)
    const body = new URLSearchParams(par[0]!.body)
    expect(body.get('code_challenge_method')).toBe('S256')
    expect(body.get('state')).toBeTruthy()
  })

  it('PAR: asked for by the option', async () => {
    const auth = createOAuthClient(clientOptions(p, { pushedAuthorizationRequests: true }))
    const url = await startLogin(auth, p)
    expect(url.searchParams.get('request_uri')).toBe('urn:ietf:params:oauth:request_uri:abc')
  })

  it('PAR failing: login() rejects, nothing navigates, and the attempt leaves no transaction behind', async () => {
    p.metadata['pushed_authorization_request_endpoint'] = `${ISSUER}/par-missing`
    const auth = createOAuthClient(clientOptions(p, { pushedAuthorizationRequests: true }))
    const e = await auth.login().catch((x: unknown) => x)
    expect(e).toBeInstanceOf(OAuthError)
    expect(p.navigations).toEqual([])
    expect(await dumpNamespace(p.clientId, ['transactions'])).toEqual({})
  })

  it.each([
    ['indexeddb', true],
    ['memory', false],
  ] as const)('PAR with DPoP and storage %s: a proof on the pushed request only when the key survives the redirect (it binds the code)', async (storage, proof) => {
    const auth = createOAuthClient(clientOptions(p, { pushedAuthorizationRequests: true, dpop: true, storage }))
    await startLogin(auth, p)
    const par = p.to('/par')
    expect(par[0]!.headers.has('dpop')).toBe(proof)
    expect(new URLSearchParams(par[0]!.body).has('dpop_jkt')).toBe(proof)
  })

  it('login options override scope and resource for that sign-in', async () => {
    const auth = createOAuthClient(clientOptions(p))
    const url = await startLogin(auth, p, { scope: 'openid  email', resource: ['https://a.example', 'https://b.example'] })
    expect(url.searchParams.get('scope')).toBe('openid email')
    expect(url.searchParams.getAll('resource')).toEqual(['https://a.example', 'https://b.example'])
  })

  it('without openid there is no nonce', async () => {
    const auth = createOAuthClient(clientOptions(p, { scope: 'api offline_access' }))
    const url = await startLogin(auth, p)
    expect(url.searchParams.has('nonce')).toBe(false)
  })
})
