import 'fake-indexeddb/auto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createOAuthClient, OAuthError } from '../../../src/index.js'
import type { OAuthClient, OAuthClientOptions } from '../../../src/index.js'
import { advanceClock, APP, clientOptions, idToken, installScriptedProvider, json, signIn, type ScriptedProvider } from '../helpers/scripted-provider.js'
import { dumpNamespace } from '../helpers/idb.js'

let p: ScriptedProvider
let options: OAuthClientOptions
let auth: OAuthClient
beforeEach(async () => {
  p = installScriptedProvider()
  window.history.replaceState(null, '', `${APP}/`)
  options = clientOptions(p)
  auth = createOAuthClient(options)
  await signIn(auth, p)
})
afterEach(() => p.restore())

const refreshGrants = () => p.to('/token').filter((r) => new URLSearchParams(r.body).get('grant_type') === 'refresh_token')
/** Makes the next token responses expire at once (inside the leeway). */
const shortLived = () => {
  const base = p.token
  p.token = (req) => Promise.resolve(base(req)).then(async (res) => json({ ...(await res.json()), expires_in: 1 }))
}
async function expireNow(): Promise<void> {
  // A new page two hours later: every stored token has expired.
  advanceClock()
  auth = createOAuthClient(options)
  await new Promise((r) => setTimeout(r, 0))
}

describe('getAccessToken and refresh', () => {
  it('the hot path answers from memory: no request at all', async () => {
    const before = p.requests.length
    for (let i = 0; i < 100; i++) await auth.getAccessToken()
    expect(p.requests.length).toBe(before)
  })

  it('a reload restores the session from IndexedDB without contacting the provider', async () => {
    const before = p.requests.length
    const reloaded = createOAuthClient(options)
    expect(reloaded.getSnapshot().status).toBe('loading')
    await expect(reloaded.getAccessToken()).resolves.toBe('at-1')
    expect(reloaded.getSnapshot()).toMatchObject({ status: 'authenticated', user: { sub: 'alice' } })
    expect(p.requests.length).toBe(before)
  })

  it('checklist 46: 10 concurrent callers with an expired token share one refresh', async () => {
    await expireNow()
    const tokens = await Promise.all(Array.from({ length: 10 }, () => auth.getAccessToken()))
    expect(refreshGrants()).toHaveLength(1)
    expect(new Set(tokens)).toEqual(new Set(['at-2']))
  })

  it('checklist 48/50: rotation stores the new refresh token before the access token is handed out; no scope escalation', async () => {
    await expireNow()
    await auth.getAccessToken()
    const body = new URLSearchParams(refreshGrants()[0]!.body)
    expect(body.get('refresh_token')).toBe('rt-1')
    expect(body.get('resource')).toBe('https://api.example')
    expect(body.has('scope')).toBe(false)
    const stored = await dumpNamespace(p.clientId, ['refresh_tokens'])
    expect(Object.values(stored)).toMatchObject([{ token: 'rt-2' }])
    await expireNow()
    await auth.getAccessToken()
    expect(new URLSearchParams(refreshGrants()[1]!.body).get('refresh_token')).toBe('rt-2')
  })

  it('checklist 48: a refresh response without refresh_token keeps the old one', async () => {
    p.token = () => json(p.tokens({ refresh_token: undefined, id_token: undefined }))
    await expireNow()
    await expect(auth.getAccessToken()).resolves.toBe('at-2')
    expect(Object.values(await dumpNamespace(p.clientId, ['refresh_tokens']))).toMatchObject([{ token: 'rt-1' }])
  })

  it('forceRefresh refreshes even a valid token, and emits token_refreshed', async () => {
    const events: unknown[] = []
    auth.on('token_refreshed', (e) => events.push(e))
    await expect(auth.getAccessToken({ forceRefresh: true })).resolves.toBe('at-2')
    expect(events).toMatchObject([{ resource: 'https://api.example', scope: 'openid profile offline_access' }])
  })

  it('checklist 49: invalid_grant ends the session: stores wiped, session_expired, unauthenticated, login_required', async () => {
    const expired: OAuthError[] = []
    await expireNow()
    auth.on('session_expired', ({ error }) => expired.push(error))
    p.token = () => json({ error: 'invalid_grant', error_description: 'grant request is invalid' }, 400)
    const e = await auth.getAccessToken().catch((x: unknown) => x)
    expect(e).toMatchObject({ code: 'login_required' })
    expect(expired.map((x) => x.code)).toEqual(['invalid_grant'])
    expect(auth.getSnapshot().status).toBe('unauthenticated')
    expect(await dumpNamespace(p.clientId, ['access_tokens', 'id_tokens', 'refresh_tokens'])).toEqual({})
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
    expect(refreshGrants()).toHaveLength(1)
  })

  it('checklist 49: invalid_grant while IndexedDB cannot be wiped: the session still ends, and what is left is never used', async () => {
    const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction')
    p.token = () => {
      // The store breaks while the refresh is on its way: ending the session cannot wipe it.
      transaction.mockImplementation(() => {
        throw new DOMException('The database connection is closing.', 'InvalidStateError')
      })
      return json({ error: 'invalid_grant' }, 400)
    }
    await expect(auth.getAccessToken({ forceRefresh: true })).rejects.toMatchObject({ code: 'login_required' })
    transaction.mockRestore()
    expect(auth.getSnapshot().status).toBe('unauthenticated')
    // The access token left in IndexedDB is still within its lifetime: it must not come back.
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
    expect(await dumpNamespace(p.clientId, ['access_tokens', 'id_tokens', 'refresh_tokens'])).toEqual({})
    expect(refreshGrants()).toHaveLength(1)
  })

  it.each([
    ['500', () => json({ error: 'server_error' }, 500), 'network_error'],
    ['503 without body', () => new Response('busy', { status: 503 }), 'network_error'],
    ['network offline', () => Promise.reject(new TypeError('Failed to fetch')), 'network_error'],
  ] as const)('checklist 49: %s keeps the session and every token; refreshes back off (nothing sent), then retry', async (_n, fail, code) => {
    await expireNow()
    const before = await dumpNamespace(p.clientId, ['access_tokens', 'id_tokens', 'refresh_tokens'])
    const good = p.token
    p.token = fail
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code })
    expect(auth.getSnapshot().status).toBe('authenticated')
    expect(await dumpNamespace(p.clientId, ['access_tokens', 'id_tokens', 'refresh_tokens'])).toEqual(before)
    p.token = good
    // Within the back-off (1 s after the first failure) a call answers at once with the failure.
    const sent = refreshGrants().length
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code, message: /backing off/ })
    expect(refreshGrants()).toHaveLength(sent)
    vi.setSystemTime(Date.now() + 1100)
    await expect(auth.getAccessToken()).resolves.toBe('at-2')
    expect(new URLSearchParams(refreshGrants().at(-1)!.body).get('refresh_token')).toBe('rt-1')
  })

  it.each([
    ['400 invalid_scope', () => json({ error: 'invalid_scope', error_description: 'refresh token missing requested scope' }, 400), 'authorization_error', 'invalid_scope'],
    ['400 invalid_target', () => json({ error: 'invalid_target' }, 400), 'authorization_error', 'invalid_target'],
    ['400 invalid_request', () => json({ error: 'invalid_request' }, 400), 'authorization_error', 'invalid_request'],
    ['403 with an HTML page (a proxy)', () => new Response('<h1>Forbidden</h1>', { status: 403, headers: { 'content-type': 'text/html' } }), 'invalid_token_response', undefined],
  ] as const)('a refresh the provider refuses with %s rejects with its own code and keeps the session and every token', async (_n, refuse, code, error) => {
    const before = await dumpNamespace(p.clientId, ['access_tokens', 'id_tokens', 'refresh_tokens'])
    const expired: OAuthError[] = []
    auth.on('session_expired', ({ error: x }) => expired.push(x))
    p.token = refuse
    const e = await auth.getAccessToken({ forceRefresh: true }).catch((x: unknown) => x)
    expect(e).toBeInstanceOf(OAuthError)
    expect(e).toMatchObject({ code, ...(error ? { error } : {}) })
    expect(expired).toEqual([])
    expect(auth.getSnapshot().status).toBe('authenticated')
    expect(await dumpNamespace(p.clientId, ['access_tokens', 'id_tokens', 'refresh_tokens'])).toEqual(before)
    await expect(auth.getAccessToken()).resolves.toBe('at-1')
  })

  it('getAccessToken validates resource and forceRefresh before anything is sent', async () => {
    const before = p.requests.length
    for (const bad of [{ resource: 'not a url' }, { resource: 'https://api.example#x' }, { forceRefresh: 'yes' }, { resource: ['https://api.example'] }]) {
      const e = await auth.getAccessToken(bad as never).catch((x: unknown) => x)
      expect(e).toMatchObject({ code: 'configuration_error' })
    }
    expect(p.requests.length).toBe(before)
    expect(auth.getSnapshot().status).toBe('authenticated')
  })

  it('checklist 20: a hung token endpoint gives timeout, session kept', async () => {
    advanceClock()
    auth = createOAuthClient({ ...options, requestTimeoutSeconds: 0.2 })
    p.token = () => new Promise<Response>(() => {})
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'timeout' })
    expect(auth.getSnapshot().status).toBe('authenticated')
  })

  it('checklist 20: a redirect from the token endpoint is not followed: redirect_not_allowed, session and refresh token kept', async () => {
    await expireNow()
    p.token = () => new Response(null, { status: 307, headers: { location: 'https://evil.example/token' } })
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'redirect_not_allowed' })
    expect(auth.getSnapshot().status).toBe('authenticated')
    expect(Object.values(await dumpNamespace(p.clientId, ['refresh_tokens']))).toMatchObject([{ token: 'rt-1' }])
  })

  it('checklist 30: a refreshed ID token with another sub ends the session', async () => {
    await expireNow()
    p.token = () => json(p.tokens({ id_token: idToken(p.claims({ sub: 'mallory', nonce: undefined })) }))
    const expired: OAuthError[] = []
    auth.on('session_expired', ({ error }) => expired.push(error))
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
    expect(expired[0]?.message).toMatch(/"sub" differs/)
    expect(auth.getSnapshot().status).toBe('unauthenticated')
  })

  it('checklist 30: a refreshed ID token with another iss ends the session', async () => {
    await expireNow()
    p.token = () => json(p.tokens({ id_token: idToken(p.claims({ iss: 'https://op.example/1', nonce: undefined })) }))
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
  })

  it('a refreshed ID token with the same iss/sub/aud updates the user', async () => {
    await expireNow()
    p.token = () => json(p.tokens({ id_token: idToken(p.claims({ name: 'Alice B.', nonce: undefined })) }))
    await auth.getAccessToken()
    expect(auth.getUser()?.['name']).toBe('Alice B.')
  })

  it('a garbled refresh response ends the session (the provider consumed the old refresh token)', async () => {
    await expireNow()
    p.token = () => json(p.tokens({ access_token: 'bad token' }))
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
    expect(await dumpNamespace(p.clientId, ['refresh_tokens'])).toEqual({})
  })

  it('down-scoping: getAccessToken({ scope }) sends that scope and keys the token by it', async () => {
    await expect(auth.getAccessToken({ scope: 'openid' })).resolves.toBe('at-2')
    expect(new URLSearchParams(refreshGrants()[0]!.body).get('scope')).toBe('openid')
    await expect(auth.getAccessToken({ scope: 'openid' })).resolves.toBe('at-2')
    await expect(auth.getAccessToken()).resolves.toBe('at-1')
  })

  /** Signs in again with two resource indicators, so that a refresh may ask for either. */
  async function signInForTwoResources(): Promise<void> {
    auth = createOAuthClient({ ...options, resource: ['https://api.example', 'https://other.example'] })
    await signIn(auth, p)
  }

  it('a token for another resource of the sign-in is fetched with the refresh token and kept apart', async () => {
    await signInForTwoResources()
    await expect(auth.getAccessToken({ resource: 'https://other.example' })).resolves.toBe('at-3')
    expect(new URLSearchParams(refreshGrants()[0]!.body).get('resource')).toBe('https://other.example')
    await expect(auth.getAccessToken()).resolves.toBe('at-2')
  })

  it('RFC 8707: a resource that was not part of the sign-in is refused before anything is sent, and the session stays', async () => {
    const before = p.requests.length
    const e = await auth.getAccessToken({ resource: 'https://other.example' }).catch((x: unknown) => x)
    expect(e).toMatchObject({ code: 'configuration_error' })
    expect(p.requests.length).toBe(before)
    expect(auth.getSnapshot().status).toBe('authenticated')
    await expect(auth.getAccessToken()).resolves.toBe('at-1')
  })

  it('bad options give configuration_error, not a TypeError', async () => {
    await expect(auth.getAccessToken('x' as never)).rejects.toMatchObject({ code: 'configuration_error' })
    await expect(auth.getAccessToken({ resource: 5 } as never)).rejects.toMatchObject({ code: 'configuration_error' })
  })

  it('without a session getAccessToken rejects login_required', async () => {
    const other = createOAuthClient(clientOptions(p))
    await expect(other.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
  })

  it('checklist 8 (ANCHORS): a sign-in as another user clears the previous user\'s tokens of every audience', async () => {
    await signInForTwoResources()
    await auth.getAccessToken({ resource: 'https://other.example' })
    expect(Object.keys(await dumpNamespace(p.clientId, ['access_tokens']))).toHaveLength(2)
    p.sub = 'bob'
    await signIn(auth, p)
    const left = Object.values(await dumpNamespace(p.clientId, ['access_tokens'])) as { sub: string }[]
    expect(left.map((r) => r.sub)).toEqual(['bob'])
    expect(auth.getUser()?.sub).toBe('bob')
  })

  it('shortLived helper: a token inside the leeway is refreshed on use', async () => {
    shortLived()
    await auth.getAccessToken({ forceRefresh: true })
    await auth.getAccessToken()
    expect(refreshGrants()).toHaveLength(2)
  })
})

describe('cross-tab (two clients on one origin)', () => {
  it('a logout in one tab flips the other to unauthenticated and empties its cache', async () => {
    const other = createOAuthClient(options)
    await other.getAccessToken()
    const seen: string[] = []
    other.on('logout', () => seen.push('logout'))
    await auth.logout({ localOnly: true })
    await expect.poll(() => other.getSnapshot().status).toBe('unauthenticated')
    expect(seen).toEqual(['logout'])
    await expect(other.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
  })

  it('a token refreshed in one tab is read from the store by another, without a second refresh', async () => {
    const other = createOAuthClient(options)
    await expect(other.getAccessToken()).resolves.toBe('at-1')
    await auth.getAccessToken({ forceRefresh: true })
    expect(refreshGrants()).toHaveLength(1)
    // The 'refreshed' message made the other tab drop its cache: it now reads at-2 from IndexedDB.
    await expect.poll(() => other.getAccessToken()).toBe('at-2')
    expect(refreshGrants()).toHaveLength(1)
  })
})

describe('checklist 37: storage is namespaced per issuer and client', () => {
  it('two clients of different issuers on one origin never see each other\'s tokens', async () => {
    const otherIssuer = createOAuthClient({ ...options, issuer: 'https://op2.example' })
    await expect(otherIssuer.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
    expect(otherIssuer.getSnapshot().status).toBe('unauthenticated')
    const otherClient = createOAuthClient({ ...options, clientId: `${options.clientId}-b` })
    await expect(otherClient.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
    await otherClient.logout({ localOnly: true })
    await expect(auth.getAccessToken()).resolves.toBe('at-1')
  })
})

describe('checklist 49: back-off', () => {
  it('doubles after each failure up to 60 s, and a success resets it', async () => {
    await expireNow()
    p.token = () => json({ error: 'server_error' }, 503)
    const waits: number[] = []
    for (let i = 0; i < 8; i++) {
      await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'network_error' })
      const e = (await auth.getAccessToken().catch((x: unknown) => x)) as Error
      waits.push(Number(/sent in (\d+) s/.exec(e.message)?.[1]))
      vi.setSystemTime(Date.now() + waits.at(-1)! * 1000)
    }
    expect(waits).toEqual([1, 2, 4, 8, 16, 32, 60, 60])
    expect(refreshGrants()).toHaveLength(8)
    p.token = () => json(p.tokens())
    await expect(auth.getAccessToken()).resolves.toMatch(/^at-/)
    p.token = () => json({ error: 'server_error' }, 503)
    advanceClock()
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'network_error' })
    expect(((await auth.getAccessToken().catch((x: unknown) => x)) as Error).message).toMatch(/sent in 1 s/)
  })
})

describe('forceRefresh right after a reload', () => {
  it('refreshes even though the memory cache is still empty (it used to adopt the stored token)', async () => {
    const reloaded = createOAuthClient(options)
    await expect(reloaded.getAccessToken({ forceRefresh: true })).resolves.toBe('at-2')
    expect(refreshGrants()).toHaveLength(1)
  })

  it('concurrent forceRefresh callers after a reload still share one refresh', async () => {
    const reloaded = createOAuthClient(options)
    const tokens = await Promise.all([1, 2, 3].map(() => reloaded.getAccessToken({ forceRefresh: true })))
    expect(new Set(tokens).size).toBe(1)
    expect(refreshGrants()).toHaveLength(1)
  })
})
