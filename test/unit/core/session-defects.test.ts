/**
 * Issue 15: the eight defects of the outside review, the two smaller ones, and the forceRefresh
 * defect of issue 14. Each test failed against the code before its fix.
 */
import 'fake-indexeddb/auto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createOAuthClient, OAuthError } from '../../../src/index.js'
import type { OAuthClient, OAuthClientOptions } from '../../../src/index.js'
import {
  advanceClock, API, APP, callbackUrl, clientOptions, idToken, installScriptedProvider, ISSUER, json, signIn, startLogin, uniqueClientId,
  type ScriptedProvider,
} from '../helpers/scripted-provider.js'
import { dumpNamespace } from '../helpers/idb.js'

let p: ScriptedProvider
beforeEach(() => {
  p = installScriptedProvider()
  window.history.replaceState(null, '', `${APP}/`)
})
afterEach(() => p.restore())

const refreshGrants = () => p.to('/token').filter((r) => new URLSearchParams(r.body).get('grant_type') === 'refresh_token')
const TOKENS = ['access_tokens', 'id_tokens', 'refresh_tokens']

describe('defect 1: mix-up through a shared redirect URI (RFC 9700 §4.4)', () => {
  /** A callback as the honest provider sends it: the attacker's state, the honest code, no iss. */
  const forwarded = (redirectUri: string, state: string) => {
    const url = new URL(redirectUri)
    url.searchParams.set('code', 'honest-code')
    url.searchParams.set('state', state)
    return url.href
  }

  it('a client whose redirect URI a client of another issuer shares requires iss: the honest code never reaches its token endpoint', async () => {
    const redirectUri = `${APP}/shared-${uniqueClientId()}`
    createOAuthClient({ ...clientOptions(p), issuer: 'https://honest.example', redirectUri })
    // The scripted provider plays the malicious one: it does not announce iss.
    p.metadata['authorization_response_iss_parameter_supported'] = false
    const attacker = createOAuthClient(clientOptions(p, { redirectUri }))
    const state = (await startLogin(attacker, p)).searchParams.get('state')!
    const e = await attacker.handleRedirectCallback(forwarded(redirectUri, state)).catch((x: unknown) => x)
    expect(e).toMatchObject({ code: 'invalid_callback', message: /"iss".*mix-up/ })
    expect(p.to('/token')).toHaveLength(0)
    expect(await dumpNamespace(p.clientId, TOKENS)).toEqual({})
  })

  it('requireIss: a callback without iss is refused even for a lone client; with iss it signs in', async () => {
    p.metadata['authorization_response_iss_parameter_supported'] = false
    const redirectUri = `${APP}/strict-${uniqueClientId()}`
    const auth = createOAuthClient(clientOptions(p, { redirectUri, requireIss: true }))
    const state = (await startLogin(auth, p)).searchParams.get('state')!
    await expect(auth.handleRedirectCallback(forwarded(redirectUri, state))).rejects.toMatchObject({ code: 'invalid_callback', message: /requireIss/ })
    const again = (await startLogin(auth, p)).searchParams.get('state')!
    const withIss = new URL(forwarded(redirectUri, again))
    withIss.searchParams.set('iss', ISSUER)
    await expect(auth.handleRedirectCallback(withIss.href)).resolves.toMatchObject({ user: { sub: 'alice' } })
  })

  it('a lone client without requireIss still accepts a callback without iss from a provider that does not announce it', async () => {
    p.metadata['authorization_response_iss_parameter_supported'] = false
    const redirectUri = `${APP}/lone-${uniqueClientId()}`
    const auth = createOAuthClient(clientOptions(p, { redirectUri }))
    const state = (await startLogin(auth, p)).searchParams.get('state')!
    await expect(auth.handleRedirectCallback(forwarded(redirectUri, state))).resolves.toMatchObject({ user: { sub: 'alice' } })
  })
})

describe('defect 2: a logout in another tab leaves no usable token, whatever the storage', () => {
  it('storage: "memory": the other tab neither attaches its access token nor refreshes', async () => {
    const options = clientOptions(p, { storage: 'memory' })
    const a = createOAuthClient(options)
    const b = createOAuthClient(options)
    await signIn(a, p)
    await signIn(b, p)
    await expect(b.getAccessToken()).resolves.toBe('at-2')
    await a.logout({ localOnly: true })
    await expect.poll(() => b.getSnapshot().status).toBe('unauthenticated')
    const before = p.requests.length
    await expect(b.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
    await expect(b.getAccessToken({ forceRefresh: true })).rejects.toMatchObject({ code: 'login_required' })
    await expect(b.fetch(`${API}/x`)).rejects.toMatchObject({ code: 'login_required' })
    expect(p.requests.length).toBe(before)
  })
})

describe('defect 3: a refused logout({ returnTo }) still ends the session', () => {
  it('wipes, revokes and leaves for end-session with the configured post-logout URI; the refusal is reported', async () => {
    const auth = createOAuthClient(clientOptions(p))
    await signIn(auth, p)
    const errors: OAuthError[] = []
    auth.on('error', ({ error }) => errors.push(error))
    await expect(auth.logout({ returnTo: 'https://evil.example/' })).resolves.toBeUndefined()
    expect(errors.map((e) => e.code)).toEqual(['configuration_error'])
    expect(auth.getSnapshot().status).toBe('unauthenticated')
    expect(await dumpNamespace(p.clientId, TOKENS)).toEqual({})
    expect(p.to('/revoke')).toHaveLength(1)
    const end = new URL(p.navigations.at(-1)!)
    expect(end.searchParams.get('post_logout_redirect_uri')).toBe(`${APP}/`)
    expect(p.navigations.join(' ')).not.toMatch(/evil/)
  })
})

describe('defect 4: a logout whose deletes fail', () => {
  it('reports storage_error, and neither another tab nor a reload can use what is left', async () => {
    const options = clientOptions(p)
    const auth = createOAuthClient(options)
    await signIn(auth, p)
    const other = createOAuthClient(options)
    await expect(other.getAccessToken()).resolves.toBe('at-1')
    const errors: OAuthError[] = []
    auth.on('error', ({ error }) => errors.push(error))
    const del = vi.spyOn(IDBObjectStore.prototype, 'delete').mockImplementation(() => {
      throw new DOMException('disk full', 'QuotaExceededError')
    })
    try {
      await auth.logout({ localOnly: true })
      expect(errors.map((e) => e.code)).toEqual(['storage_error'])
      // The tokens are still in IndexedDB (reads work), but nobody uses them.
      expect(Object.keys(await dumpNamespace(p.clientId, TOKENS))).not.toEqual([])
      await expect.poll(() => other.getSnapshot().status).toBe('unauthenticated')
      await expect(other.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
      const reloaded = createOAuthClient(options)
      await expect(reloaded.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
      expect(reloaded.getSnapshot().status).toBe('unauthenticated')
    } finally {
      del.mockRestore()
    }
    expect(refreshGrants()).toHaveLength(0)
  })
})

describe('defect 5: the request timeout during a rotation', () => {
  it('callers stop waiting with timeout, but the late answer is stored: the rotated refresh token is kept', async () => {
    const options = clientOptions(p, { requestTimeoutSeconds: 0.2 })
    let auth = createOAuthClient(options)
    await signIn(auth, p)
    advanceClock()
    auth = createOAuthClient(options)
    p.token = () => new Promise((resolve) => setTimeout(() => resolve(json(p.tokens())), 700))
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'timeout' })
    expect(auth.getSnapshot().status).toBe('authenticated')
    await expect.poll(async () => Object.values(await dumpNamespace(p.clientId, ['refresh_tokens'])), { timeout: 3000 }).toMatchObject([{ token: 'rt-2' }])
    await expect(auth.getAccessToken()).resolves.toBe('at-2')
    expect(refreshGrants()).toHaveLength(1)
  })
})

describe('defect 6: without an ID token, a new sign-in never serves an earlier session\'s tokens', () => {
  it('the token of another audience is fetched anew after the second sign-in', async () => {
    p.token = () => json(p.tokens({ id_token: undefined, scope: 'profile offline_access' }))
    const auth = createOAuthClient(clientOptions(p, { scope: 'profile offline_access', resource: [API, 'https://other.example'] }))
    await signIn(auth, p)
    const first = await auth.getAccessToken({ resource: 'https://other.example' })
    await signIn(auth, p) // someone else, as far as anyone can tell
    const second = await auth.getAccessToken({ resource: 'https://other.example' })
    expect(second).not.toBe(first)
    expect(new URLSearchParams(refreshGrants().at(-1)!.body).get('refresh_token')).toBe('rt-3')
  })
})

describe('defect 7: storage keys cannot collide through "|"', () => {
  it('client x logging out leaves client x|y\'s tokens alone', async () => {
    const x = uniqueClientId()
    const xy = createOAuthClient(clientOptions(p, { clientId: `${x}|y` }))
    await signIn(xy, p)
    const token = await xy.getAccessToken()
    const plain = createOAuthClient(clientOptions(p, { clientId: x }))
    await signIn(plain, p)
    await plain.logout({ localOnly: true })
    p.token = () => json({ error: 'server_error' }, 500)
    const reloaded = createOAuthClient(clientOptions(p, { clientId: `${x}|y` }))
    await expect(reloaded.getAccessToken()).resolves.toBe(token)
    expect(refreshGrants()).toHaveLength(0)
  })
})

describe('defect 8: a lifetime within the leeway does not make every call a refresh', () => {
  it('30-second tokens with the default 30 s leeway: used for half their life, then refreshed once', async () => {
    p.token = () => json(p.tokens({ expires_in: 30 }))
    const auth = createOAuthClient(clientOptions(p))
    await signIn(auth, p)
    for (let i = 0; i < 5; i++) await expect(auth.getAccessToken()).resolves.toBe('at-1')
    expect(refreshGrants()).toHaveLength(0)
    advanceClock(16_000)
    await expect(auth.getAccessToken()).resolves.toBe('at-2')
    await expect(auth.getAccessToken()).resolves.toBe('at-2')
    expect(refreshGrants()).toHaveLength(1)
  })
})

describe('smaller ones', () => {
  it('auth.fetch("blob:…") on an allowed origin rejects with an OAuthError, and sends nothing', async () => {
    const auth = createOAuthClient(clientOptions(p))
    await signIn(auth, p)
    const before = p.requests.length
    for (const url of [`blob:${API}/0b0e`, `data:text/plain,hi`, new URL(`blob:${API}/1`)]) {
      const e = await auth.fetch(url).catch((x: unknown) => x)
      expect(e).toBeInstanceOf(OAuthError)
      expect(e).toMatchObject({ code: 'configuration_error' })
    }
    expect(p.requests.length).toBe(before)
  })

  it('issue 14: forceRefresh with a valid access token and no refresh token rejects clearly and keeps the session', async () => {
    p.token = () => json(p.tokens({ refresh_token: undefined }))
    const auth = createOAuthClient(clientOptions(p))
    await signIn(auth, p)
    const expired = vi.fn()
    auth.on('session_expired', expired)
    const e = await auth.getAccessToken({ forceRefresh: true }).catch((x: unknown) => x)
    expect(e).toMatchObject({ code: 'login_required', message: /no refresh token/ })
    expect((e as Error).message).not.toMatch(/expired/)
    expect(auth.getSnapshot().status).toBe('authenticated')
    expect(expired).not.toHaveBeenCalled()
    await expect(auth.getAccessToken()).resolves.toBe('at-1')
    expect(Object.keys(await dumpNamespace(p.clientId, ['id_tokens', 'access_tokens']))).toHaveLength(2)
  })
})

describe('clock skew tolerance (checklist A9)', () => {
  /** Signs in with an ID token that expired `ago` seconds ago by this device's clock. */
  async function signInLate(options: OAuthClientOptions, ago: number): Promise<OAuthClient> {
    const auth = createOAuthClient(options)
    p.token = () => json(p.tokens({ id_token: idToken(p.claims({ exp: Math.floor(Date.now() / 1000) - ago })) }))
    await startLogin(auth, p)
    await auth.handleRedirectCallback(callbackUrl(p)).catch(() => undefined)
    return auth
  }

  it('a device clock 60 s ahead fails with the default 30 s, and signs in with clockToleranceSeconds: 120', async () => {
    const strict = await signInLate(clientOptions(p), 60)
    expect(strict.getSnapshot().status).toBe('unauthenticated')
    const tolerant = await signInLate(clientOptions(p, { clockToleranceSeconds: 120 }), 60)
    expect(tolerant.getSnapshot()).toMatchObject({ status: 'authenticated', user: { sub: 'alice' } })
  })

  it('clockToleranceSeconds must be a number of seconds', () => {
    expect(() => createOAuthClient(clientOptions(p, { clockToleranceSeconds: -1 }))).toThrow(/clockToleranceSeconds/)
  })
})
