/**
 * `login({ appState })` through the redirect (stored with the transaction, never in the URL, back
 * from handleRedirectCallback), its validation, and `getIdToken()`.
 */
import 'fake-indexeddb/auto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { APP_STATE_MAX_BYTES, createOAuthClient, isOAuthError } from '../../../src/index.js'
import type { OAuthClient, User } from '../../../src/index.js'
import { copyAppState } from '../../../src/redirect/app-state.js'
import { APP, callbackUrl, clientOptions, idToken, installScriptedProvider, json, signIn, startLogin, type ScriptedProvider } from '../helpers/scripted-provider.js'
import { dumpNamespace } from '../helpers/idb.js'

let p: ScriptedProvider
let auth: OAuthClient
beforeEach(() => {
  p = installScriptedProvider()
  window.history.replaceState(null, '', `${APP}/orders?id=7`)
  auth = createOAuthClient(clientOptions(p))
})
afterEach(() => p.restore())

const appState = { draft: { title: 'Quarterly-report-7f3e', tags: ['a', 'b'], pages: 3, final: false, owner: null }, tab: 'é€😀' }

describe('login({ appState })', () => {
  it('comes back from handleRedirectCallback, equal but not the same object; it never enters the URL', async () => {
    const result = await signIn(auth, p, { appState })
    expect(result.appState).toEqual(appState)
    expect(result.appState).not.toBe(appState)
    expect(result.returnTo).toBe('/orders?id=7')
    const authorization = p.lastAuthorization().href
    // Needles long enough that random state, nonce or PKCE values cannot contain them by chance
    // (a 2-letter needle like 'Q3' turned up inside a code_challenge).
    for (const needle of ['Quarterly-report-7f3e', 'draft', encodeURIComponent('é€😀')]) expect(authorization).not.toContain(needle)
    expect(callbackUrl(p)).not.toContain('Quarterly-report-7f3e')
  })

  it('is stored with the transaction and leaves with it', async () => {
    await startLogin(auth, p, { appState })
    const stored = Object.values(await dumpNamespace(p.clientId, ['transactions']))
    expect(stored).toEqual([expect.objectContaining({ appState })])
    window.history.replaceState(null, '', callbackUrl(p))
    await auth.handleRedirectCallback()
    const after = Object.values(await dumpNamespace(p.clientId, ['transactions']))
    expect(JSON.stringify(after)).not.toContain('Quarterly-report-7f3e')
  })

  it('a later change to the object given does not change what comes back', async () => {
    const mutable = { step: 1 }
    await startLogin(auth, p, { appState: mutable })
    mutable.step = 2
    window.history.replaceState(null, '', callbackUrl(p))
    await expect(auth.handleRedirectCallback()).resolves.toMatchObject({ appState: { step: 1 } })
  })

  it('is undefined when none was given', async () => {
    const result = await signIn(auth, p)
    expect(result.appState).toBeUndefined()
    expect('appState' in result).toBe(true)
  })

  it('rides through sessionStorage with storage: memory unchanged', async () => {
    const memory = createOAuthClient(clientOptions(p, { storage: 'memory' }))
    await startLogin(memory, p, { appState })
    const raw = Object.keys(sessionStorage).map((k) => sessionStorage.getItem(k) ?? '').join('\n')
    expect(raw).toContain('Quarterly-report-7f3e')
    // A new page (the redirect): a new client reads the transaction back from sessionStorage.
    const after = createOAuthClient({ ...clientOptions(p, { storage: 'memory', clientId: p.clientId }) })
    const url = callbackUrl(p)
    window.history.replaceState(null, '', url)
    await expect(after.handleRedirectCallback()).resolves.toMatchObject({ appState })
  })

  it.each([
    ['a function', { f: () => 1 }, 'appState.f is a function'],
    ['a Map', new Map([[1, 2]]), 'appState is a Map'],
    ['a Date', { at: new Date(0) }, 'appState.at is a Date'],
    ['a class instance', { u: new URL('https://x.example') }, 'appState.u is a URL'],
    ['NaN', { n: Number.NaN }, 'appState.n is NaN'],
    ['Infinity', [Infinity], 'appState[0] is Infinity'],
    ['a bigint', { b: 1n }, 'appState.b is a bigint'],
    ['a symbol', Symbol('s'), 'appState is a symbol'],
    ['undefined in an array', [1, undefined], 'appState[1] is undefined'],
  ])('%s is a configuration_error that names it, and nothing starts', async (_name, value, message) => {
    const error = await auth.login({ appState: value }).catch((e: unknown) => e)
    expect(isOAuthError(error, 'configuration_error')).toBe(true)
    expect((error as Error).message).toContain(message)
    expect(p.navigations).toEqual([])
    expect(p.requests).toEqual([])
    expect(await dumpNamespace(p.clientId, ['transactions'])).toEqual({})
  })

  it('a cycle is refused; the same object twice (no cycle) is fine', () => {
    const cyclic: Record<string, unknown> = { a: 1 }
    cyclic['self'] = cyclic
    expect(() => copyAppState(cyclic)).toThrow(/refers back to itself/)
    const shared = { x: 1 }
    expect(copyAppState({ a: shared, b: shared })).toEqual({ a: { x: 1 }, b: { x: 1 } })
  })

  it('a getter or a proxy that throws is a configuration_error, not a bare TypeError', () => {
    const proxy = new Proxy({}, { ownKeys: () => { throw new TypeError('nope') } })
    const getter = Object.defineProperty({}, 'x', { enumerable: true, get: () => { throw new TypeError('nope') } })
    for (const value of [proxy, getter]) {
      let error: unknown
      try {
        copyAppState(value)
      } catch (e) {
        error = e
      }
      expect(isOAuthError(error, 'configuration_error')).toBe(true)
    }
  })

  it('undefined properties are dropped (as JSON does); a null-prototype object is plain', () => {
    expect(copyAppState({ a: undefined, b: 1 })).toEqual({ b: 1 })
    const bare = Object.assign(Object.create(null) as Record<string, unknown>, { k: 'v' })
    expect(copyAppState(bare)).toEqual({ k: 'v' })
  })

  it(`is capped at ${APP_STATE_MAX_BYTES} bytes of JSON (UTF-8), with a message that says what to do`, async () => {
    // JSON of a string is its text plus two quotes.
    expect(copyAppState('x'.repeat(APP_STATE_MAX_BYTES - 2))).toHaveLength(APP_STATE_MAX_BYTES - 2)
    expect(() => copyAppState('x'.repeat(APP_STATE_MAX_BYTES - 1))).toThrow(`is ${APP_STATE_MAX_BYTES + 1} bytes as JSON, more than the ${APP_STATE_MAX_BYTES} allowed`)
    // Counted in UTF-8 bytes, not UTF-16 units: '€' is 3 bytes.
    expect(() => copyAppState('€'.repeat(Math.ceil(APP_STATE_MAX_BYTES / 3)))).toThrow(/more than the/)
    const error = await auth.login({ appState: { big: 'x'.repeat(APP_STATE_MAX_BYTES) } }).catch((e: unknown) => e)
    expect(isOAuthError(error, 'configuration_error')).toBe(true)
    expect((error as Error).message).toMatch(/keep an id in it/)
    expect(p.navigations).toEqual([])
  })
})

describe('getIdToken()', () => {
  it('is undefined signed out, the ID token of the sign-in once signed in, undefined again after logout', async () => {
    await expect(auth.getIdToken()).resolves.toBeUndefined()
    await signIn(auth, p)
    const token = await auth.getIdToken()
    expect(token?.split('.')).toHaveLength(3)
    const claims = JSON.parse(atob(token!.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/'))) as Record<string, unknown>
    expect(claims).toMatchObject({ sub: 'alice', aud: p.clientId })
    await auth.logout({ localOnly: true })
    await expect(auth.getIdToken()).resolves.toBeUndefined()
  })

  it('is the refreshed ID token after a refresh that brought one', async () => {
    await signIn(auth, p)
    const first = await auth.getIdToken()
    p.token = () => json(p.tokens({ id_token: idToken(p.claims({ name: 'Alice R.' })) }))
    await auth.getAccessToken({ forceRefresh: true })
    const second = await auth.getIdToken()
    expect(second).not.toBe(first)
    expect(auth.getUser()?.name).toBe('Alice R.')
  })

  it('is undefined for a sign-in without openid (no ID token)', async () => {
    p.token = () => json(p.tokens({ id_token: undefined, scope: 'api' }))
    await signIn(auth, p, { scope: 'api' })
    expect(auth.getSnapshot().status).toBe('authenticated')
    await expect(auth.getIdToken()).resolves.toBeUndefined()
  })
})

describe('typed claims', () => {
  it('standard claims are typed without casts; others are unknown', async () => {
    p.token = () => json(p.tokens({ id_token: idToken(p.claims({ email: 'a@example.com', email_verified: true, picture: 'https://img.example/a.png', roles: ['admin'] })) }))
    const { user } = await signIn(auth, p)
    const u: User = user!
    const email: string | undefined = u.email
    const verified: boolean | undefined = u.email_verified
    const picture: string | undefined = u.picture
    const roles: unknown = u['roles']
    expect({ email, verified, picture, roles }).toEqual({ email: 'a@example.com', verified: true, picture: 'https://img.example/a.png', roles: ['admin'] })
  })
})
