import 'fake-indexeddb/auto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createOAuthClient } from '../../../src/index.js'
import type { OAuthClient, OAuthError } from '../../../src/index.js'
import { API, APP, callbackUrl, clientOptions, installScriptedProvider, ISSUER, json, signIn, type ScriptedProvider } from '../helpers/scripted-provider.js'
import { dumpNamespace } from '../helpers/idb.js'

let p: ScriptedProvider
let auth: OAuthClient
beforeEach(async () => {
  p = installScriptedProvider()
  window.history.replaceState(null, '', `${APP}/`)
  auth = createOAuthClient(clientOptions(p))
  await signIn(auth, p)
})
afterEach(() => p.restore())

const ALL = ['access_tokens', 'id_tokens', 'refresh_tokens', 'dpop_keys', 'transactions']

describe('logout', () => {
  it('checklist 55: wipes every store, revokes the refresh token, then goes to end_session with id_token_hint', async () => {
    const events: string[] = []
    auth.on('logout', () => events.push('logout'))
    await auth.logout()
    expect(await dumpNamespace(p.clientId, ALL)).toEqual({})
    const revoke = p.to('/revoke')
    expect(revoke).toHaveLength(1)
    const body = new URLSearchParams(revoke[0]!.body)
    expect([body.get('token'), body.get('token_type_hint')]).toEqual(['rt-1', 'refresh_token'])
    const end = new URL(p.navigations.at(-1)!)
    expect(end.origin + end.pathname).toBe(`${ISSUER}/logout`)
    expect(end.searchParams.get('id_token_hint')).toMatch(/^eyJ/)
    expect(end.searchParams.get('post_logout_redirect_uri')).toBe(`${APP}/`)
    expect(end.searchParams.get('client_id')).toBe(p.clientId)
    expect(end.href).not.toMatch(/at-1|rt-1/)
    expect(auth.getSnapshot().status).toBe('unauthenticated')
    expect(events).toEqual(['logout'])
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
  })

  it('localOnly: no navigation to the provider', async () => {
    const before = p.navigations.length
    await auth.logout({ localOnly: true })
    expect(p.navigations.length).toBe(before)
    expect(await dumpNamespace(p.clientId, ALL)).toEqual({})
  })

  it('revocation endpoint down: the local wipe still happens and the error is reported', async () => {
    p.metadata['revocation_endpoint'] = 'https://op.example/revoke-down'
    auth = createOAuthClient(clientOptions(p, { clientId: p.clientId })) // a new page: fresh discovery
    const errors: OAuthError[] = []
    auth.on('error', ({ error }) => errors.push(error))
    await auth.logout()
    expect(await dumpNamespace(p.clientId, ALL)).toEqual({})
    expect(errors).toHaveLength(1)
    expect(auth.getSnapshot().status).toBe('unauthenticated')
    expect(p.navigations.at(-1)).toMatch(/\/logout\?/)
  })

  it('revocation hanging does not block logout beyond the timeout', async () => {
    p.metadata['revocation_endpoint'] = `${ISSUER}/hang`
    auth = createOAuthClient(clientOptions(p, { clientId: p.clientId, requestTimeoutSeconds: 0.2 }))
    const errors: OAuthError[] = []
    auth.on('error', ({ error }) => errors.push(error))
    const started = Date.now()
    await auth.logout({ localOnly: true })
    expect(Date.now() - started).toBeLessThan(3000)
    expect(errors.map((e) => e.code)).toEqual(['timeout'])
    expect(await dumpNamespace(p.clientId, ALL)).toEqual({})
  })

  it('no end_session_endpoint: wipes, revokes and lands on the post-logout URI', async () => {
    delete p.metadata['end_session_endpoint']
    const fresh = createOAuthClient(clientOptions(p, { clientId: p.clientId }))
    await fresh.logout()
    expect(p.navigations.at(-1)).toBe(`${APP}/`)
  })

  it('checklist 20: an end_session_endpoint that is not an https URL is never navigated to: local logout, post-logout URI, configuration_error reported', async () => {
    p.metadata['end_session_endpoint'] = 'javascript:void(window.__pwned=1)//'
    const fresh = createOAuthClient(clientOptions(p, { clientId: p.clientId }))
    const errors: OAuthError[] = []
    fresh.on('error', ({ error }) => errors.push(error))
    await fresh.logout()
    expect(p.navigations.at(-1)).toBe(`${APP}/`)
    expect(p.navigations.some((u) => u.startsWith('javascript:'))).toBe(false)
    expect(errors.map((e) => e.code)).toContain('configuration_error')
    expect(await dumpNamespace(p.clientId, ALL)).toEqual({})
  })

  it('returnTo on another origin is never used (no open redirect): the logout goes on to the post-logout URI and reports configuration_error', async () => {
    const errors: OAuthError[] = []
    auth.on('error', ({ error }) => errors.push(error))
    await auth.logout({ returnTo: 'https://evil.example/', localOnly: true })
    expect(errors.map((e) => e.code)).toEqual(['configuration_error'])
    expect(auth.getSnapshot().status).toBe('unauthenticated')
    expect(p.navigations.join(' ')).not.toMatch(/evil/)
    expect(p.navigations.at(-1)).toBe(`${APP}/`)
  })

  it('bad options never stop a logout: ignored and reported; a returnTo that is not a string falls back (never a path like /null)', async () => {
    const errors: OAuthError[] = []
    auth.on('error', ({ error }) => errors.push(error))
    await auth.logout(42 as never)
    expect(errors.map((e) => e.code)).toEqual(['configuration_error'])
    expect(auth.getSnapshot().status).toBe('unauthenticated')
    expect(await dumpNamespace(p.clientId, ALL)).toEqual({})
    expect(new URL(p.navigations.at(-1)!).pathname).toBe('/logout')
    for (const returnTo of [null, 42, {}]) {
      // A new page (this one left for the end-session page), signed in again.
      auth = createOAuthClient(clientOptions(p, { clientId: p.clientId }))
      auth.on('error', ({ error }) => errors.push(error))
      await signIn(auth, p)
      errors.length = 0
      await auth.logout({ returnTo: returnTo as never, localOnly: true })
      expect(errors.map((e) => e.code)).toEqual(['configuration_error'])
      expect(auth.getSnapshot().status).toBe('unauthenticated')
      expect(p.navigations.join(' ')).not.toMatch(/\/null|\/42|object/)
    }
  })

  it('in the same task as logout() the session is over: the snapshot says unauthenticated and getAccessToken() / auth.fetch() hand out no token', async () => {
    // A new page (the logout code not loaded yet), signed in from the store.
    auth = createOAuthClient(clientOptions(p, { clientId: p.clientId }))
    await vi.waitFor(() => expect(auth.getSnapshot().status).toBe('authenticated'))
    const sent: string[] = []
    const stub = fetch
    vi.stubGlobal('fetch', (input: RequestInfo | URL, init?: RequestInit) => {
      const h = new Headers(input instanceof Request ? input.headers : init?.headers)
      if (h.has('authorization')) sent.push(h.get('authorization')!)
      return stub(input, init)
    })
    try {
      const out = auth.logout({ localOnly: true })
      expect(auth.getSnapshot().status).toBe('unauthenticated')
      const token = auth.getAccessToken().catch((e: OAuthError) => e.code)
      const fetched = auth.fetch(`${API}/me`).catch((e: OAuthError) => e.code)
      await out
      expect(await token).toBe('login_required')
      expect(await fetched).toBe('login_required')
      expect(sent).toEqual([])
    } finally {
      vi.unstubAllGlobals()
    }
  })

  it('a refresh failing after logout writes nothing back (no token survives)', async () => {
    let release: (() => void) | undefined
    p.token = () => new Promise<Response>((r) => (release = () => r(json(p.tokens()))))
    const refreshing = auth.getAccessToken({ forceRefresh: true }).catch((e: unknown) => e)
    // The refresh request is at the token endpoint (the protocol code loads on first need).
    await vi.waitFor(() => expect(release).toBeDefined(), { timeout: 10_000 })
    const out = auth.logout({ localOnly: true })
    release!()
    await out
    expect(await refreshing).toMatchObject({ code: 'login_required' })
    expect(await dumpNamespace(p.clientId, ALL)).toEqual({})
  })
})

describe('logout and a route guard', () => {
  it('a login() started while logout() is leaving for the end-session page does not navigate (no race back into the provider)', async () => {
    const before = p.navigations.length
    const out = auth.logout()
    // What a <RequireAuth> does when the snapshot flips to unauthenticated:
    await expect.poll(() => auth.getSnapshot().status).toBe('unauthenticated')
    void auth.login()
    await out
    await new Promise((r) => setTimeout(r, 50))
    const after = p.navigations.slice(before)
    expect(after).toHaveLength(1)
    expect(after[0]).toMatch(/\/logout\?/)
  })

  it('after a local-only logout (no navigation) login() works again, and asks the provider for its form (prompt=login)', async () => {
    await auth.logout({ localOnly: true })
    const before = p.navigations.length
    void auth.login()
    await expect.poll(() => p.navigations.length).toBe(before + 1)
    const url = new URL(p.navigations.at(-1)!)
    expect(url.pathname).toBe('/authorize')
    expect(url.searchParams.get('prompt')).toBe('login')
  })

  it('a prompt given to login() after a logout is kept; a sign-in ends the prompt=login default', async () => {
    await auth.logout({ localOnly: true })
    void auth.login({ prompt: 'consent' })
    await expect.poll(() => p.lastAuthorization().searchParams.get('prompt')).toBe('consent')
    await signIn(auth, p)
    expect(p.lastAuthorization().searchParams.get('prompt')).toBe('login')
    // Signed in again: the next login is an ordinary one.
    const before = p.navigations.length
    void auth.login()
    await expect.poll(() => p.navigations.length).toBe(before + 1)
    expect(p.lastAuthorization().searchParams.get('prompt')).toBe(null)
  })

  it('a login() started right after a local-only logout keeps its transaction (the wipe finishes first) and its callback completes', async () => {
    const before = p.navigations.length
    void auth.logout({ localOnly: true })
    void auth.login({ returnTo: '/again' })
    await expect.poll(() => p.navigations.length).toBe(before + 1)
    window.history.replaceState(null, '', callbackUrl(p))
    await expect(auth.handleRedirectCallback()).resolves.toMatchObject({ returnTo: '/again', user: { sub: 'alice' } })
    expect(auth.getSnapshot().status).toBe('authenticated')
  })

  it('a login() started by a listener as soon as the status reads unauthenticated (a route guard) keeps its transaction', async () => {
    const before = p.navigations.length
    const stop = auth.subscribe(() => {
      if (auth.getSnapshot().status === 'unauthenticated') void auth.login({ returnTo: '/guarded' })
    })
    await auth.logout({ localOnly: true })
    stop()
    await expect.poll(() => p.navigations.length).toBe(before + 1)
    window.history.replaceState(null, '', callbackUrl(p))
    await expect(auth.handleRedirectCallback()).resolves.toMatchObject({ returnTo: '/guarded' })
  })

  it('a logout in another tab makes the next login() here ask for the provider\'s form', async () => {
    const other = createOAuthClient(clientOptions(p, { clientId: p.clientId }))
    await other.getAccessToken()
    await auth.logout({ localOnly: true })
    await expect.poll(() => other.getSnapshot().status).toBe('unauthenticated')
    void other.login()
    await expect.poll(() => p.lastAuthorization().searchParams.get('prompt')).toBe('login')
  })
})
