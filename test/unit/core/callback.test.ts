import 'fake-indexeddb/auto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createOAuthClient, OAuthError } from '../../../src/index.js'
import type { OAuthClient } from '../../../src/index.js'
import {
  APP,
  callbackUrl,
  clientOptions,
  idToken,
  installScriptedProvider,
  ISSUER,
  json,
  signIn,
  startLogin,
  type ScriptedProvider,
} from '../helpers/scripted-provider.js'
import { dumpNamespace, putRaw } from '../helpers/idb.js'

let p: ScriptedProvider
let auth: OAuthClient
beforeEach(() => {
  p = installScriptedProvider()
  window.history.replaceState(null, '', `${APP}/orders?id=7`)
  auth = createOAuthClient(clientOptions(p))
})
afterEach(() => p.restore())

const tokenGrants = () => p.to('/token').filter((r) => new URLSearchParams(r.body).get('grant_type') === 'authorization_code')

async function failure(promise: Promise<unknown>): Promise<OAuthError> {
  const e = await promise.then(
    () => {
      throw new Error('resolved')
    },
    (x: unknown) => x,
  )
  expect(e).toBeInstanceOf(OAuthError)
  return e as OAuthError
}

describe('handleRedirectCallback: the genuine callback', () => {
  it('redeems the code, returns returnTo and the user; checklist 9: scrubs code/state/iss from the address bar', async () => {
    const result = await signIn(auth, p)
    expect(result.returnTo).toBe('/orders?id=7')
    expect(result.user?.sub).toBe('alice')
    expect(result.user?.['name']).toBe('Alice')
    expect(location.search).not.toMatch(/code=|state=|iss=/)
    expect(auth.getSnapshot()).toMatchObject({ status: 'authenticated', user: { sub: 'alice' } })
    const grant = new URLSearchParams(tokenGrants()[0]!.body)
    expect(grant.get('code')).toBe('the-code')
    expect(grant.get('code_verifier')).toMatch(/^[A-Za-z0-9_-]{43}$/)
    expect(grant.get('redirect_uri')).toBe(`${APP}/callback`)
    expect(grant.get('resource')).toBe('https://api.example')
    await expect(auth.getAccessToken()).resolves.toBe('at-1')
  })

  it('two concurrent calls in one page (StrictMode) redeem the code once and get the same result', async () => {
    await startLogin(auth, p)
    window.history.replaceState(null, '', callbackUrl(p))
    const [a, b] = await Promise.all([auth.handleRedirectCallback(), auth.handleRedirectCallback()])
    expect(a).toBe(b)
    expect(tokenGrants()).toHaveLength(1)
  })

  it('a second call after success in the same page gets the same result', async () => {
    await startLogin(auth, p)
    const url = callbackUrl(p)
    const first = await auth.handleRedirectCallback(url)
    await expect(auth.handleRedirectCallback(url)).resolves.toBe(first)
    expect(tokenGrants()).toHaveLength(1)
  })

  it('returnTo given to login is kept; a foreign returnTo falls back to "/" with an error event', async () => {
    const warnings: string[] = []
    auth.on('error', ({ error }) => warnings.push(error.code))
    await expect(signIn(auth, p, { returnTo: '/settings#a' })).resolves.toMatchObject({ returnTo: '/settings#a' })
    for (const evil of ['https://evil.example/x', '//evil.example', 'javascript:alert(1)']) {
      await expect(signIn(auth, p, { returnTo: evil })).resolves.toMatchObject({ returnTo: '/' })
    }
    expect(warnings).toEqual(['configuration_error', 'configuration_error', 'configuration_error'])
  })

  it('isRedirectCallback: true on the redirect URI with state and code, false elsewhere and once handled', async () => {
    await startLogin(auth, p)
    const url = callbackUrl(p)
    expect(auth.isRedirectCallback(url)).toBe(true)
    expect(auth.isRedirectCallback(`${APP}/callback`)).toBe(false)
    expect(auth.isRedirectCallback(url.replace('/callback', '/other'))).toBe(false)
    expect(auth.isRedirectCallback('not a url')).toBe(false)
    await auth.handleRedirectCallback(url)
    expect(auth.isRedirectCallback(url)).toBe(false)
  })

  it('checklist 4: two pending logins (two tabs) are each finished with their own verifier and nonce', async () => {
    const a = await startLogin(auth, p)
    const urlA = callbackUrl(p)
    const b = await startLogin(auth, p)
    const urlB = callbackUrl(p)
    expect(a.searchParams.get('state')).not.toBe(b.searchParams.get('state'))
    // Finish A: its ID token must carry A's nonce.
    p.token = () => json(p.tokens({ id_token: idToken(p.claims({ nonce: a.searchParams.get('nonce') })) }))
    await auth.handleRedirectCallback(urlA)
    p.token = () => json(p.tokens({ id_token: idToken(p.claims({ nonce: b.searchParams.get('nonce') })) }))
    await auth.handleRedirectCallback(urlB)
    const [ga, gb] = tokenGrants().map((r) => new URLSearchParams(r.body).get('code_verifier'))
    expect(ga).not.toBe(gb)
  })

  it('checklist 9: on a fresh callback page the address bar is scrubbed before any request to the provider (no code in a Referer)', async () => {
    await startLogin(auth, p)
    const url = callbackUrl(p)
    const seen: { path: string; page: string }[] = []
    const stub = fetch
    vi.stubGlobal('fetch', (input: RequestInfo | URL, init?: RequestInit) => {
      seen.push({ path: new URL(input instanceof Request ? input.url : input).pathname, page: location.href })
      return stub(input, init)
    })
    // The callback page: a new client, with nothing discovered yet.
    window.history.replaceState(null, '', url)
    const page = createOAuthClient(clientOptions(p, { clientId: p.clientId }))
    await expect(page.handleRedirectCallback()).resolves.toMatchObject({ user: { sub: 'alice' } })
    // The token request (the metadata came with the transaction: no discovery request here).
    expect(seen.map((s) => s.path)).toEqual(['/token'])
    expect(seen.filter((s) => /[?&]code=/.test(s.page))).toEqual([])
  })

  describe('the metadata the sign-in started with', () => {
    /** The callback page: a new client on the callback URL, with nothing discovered; what it requests. */
    async function callbackPage(): Promise<{ paths: string[]; result: Promise<unknown> }> {
      const url = callbackUrl(p)
      const from = p.requests.length
      window.history.replaceState(null, '', url)
      const page = createOAuthClient(clientOptions(p, { clientId: p.clientId }))
      const result = page.handleRedirectCallback()
      await result.catch(() => undefined)
      return { paths: p.requests.slice(from).map((r) => r.url.pathname), result }
    }
    /** The stored transaction of the last sign-in started, and its key. */
    async function pending(): Promise<{ key: string; txn: Record<string, unknown> }> {
      const state = p.lastAuthorization().searchParams.get('state')
      const found = Object.entries(await dumpNamespace(p.clientId, ['transactions'])).find(([, v]) => (v as { state?: string }).state === state)
      expect(found, 'the transaction of the last sign-in').toBeDefined()
      return { key: found![0].replace(/^transactions\//, ''), txn: found![1] as Record<string, unknown> }
    }

    it('is kept with the transaction (public metadata, no secret) and used by the callback page: the token request is its first request', async () => {
      await startLogin(auth, p)
      const { txn } = await pending()
      expect(txn['metadata']).toMatchObject({ issuer: ISSUER, token_endpoint: `${ISSUER}/token` })
      const { paths, result } = await callbackPage()
      await expect(result).resolves.toMatchObject({ user: { sub: 'alice' } })
      expect(paths).toEqual(['/token'])
    })

    it("another issuer's metadata in the transaction (tampered storage) is not used: the page discovers its own and redeems the code at its own token endpoint", async () => {
      await startLogin(auth, p)
      const { key, txn } = await pending()
      await putRaw('transactions', key, { ...txn, metadata: { issuer: 'https://evil.example', token_endpoint: 'https://evil.example/token', authorization_endpoint: 'https://evil.example/authorize' } })
      const { paths, result } = await callbackPage()
      await expect(result).resolves.toMatchObject({ user: { sub: 'alice' } })
      expect(paths).toEqual(['/.well-known/openid-configuration', '/token'])
      expect(p.requests.some((r) => r.url.origin === 'https://evil.example')).toBe(false)
    })

    it('a transaction without metadata (stored by an earlier version) or with a malformed one: the page discovers as before', async () => {
      for (const metadata of [undefined, null, 'x', { issuer: 42 }, { issuer: 'not a url' }]) {
        await startLogin(auth, p)
        const { key, txn } = await pending()
        const { metadata: _, ...rest } = txn
        await putRaw('transactions', key, metadata === undefined ? rest : { ...rest, metadata })
        const { paths, result } = await callbackPage()
        await expect(result, JSON.stringify(metadata)).resolves.toMatchObject({ user: { sub: 'alice' } })
        expect(paths, JSON.stringify(metadata)).toEqual(['/.well-known/openid-configuration', '/token'])
      }
    })
  })

  it('a callback page connects to the lock manager when the client is created, before the sign-in needs the lock; other pages do not', async () => {
    const calls: string[] = []
    const locks = {
      query: async () => (calls.push('query'), { held: [], pending: [] }),
      request: (name: string, _opts: unknown, fn: () => Promise<unknown>) => (calls.push(`request ${name.split(':').pop()}`), fn()),
    }
    vi.stubGlobal('navigator', Object.create(navigator, { locks: { value: locks } }))
    await startLogin(auth, p)
    expect(calls).toEqual([])
    window.history.replaceState(null, '', callbackUrl(p))
    const page = createOAuthClient(clientOptions(p, { clientId: p.clientId }))
    expect(calls).toEqual(['query'])
    await page.handleRedirectCallback()
    expect(calls).toEqual(['query', 'request refresh'])
  })

  it('a forged state on a fresh callback page sends nothing to the provider (no early discovery)', async () => {
    await startLogin(auth, p)
    const before = p.requests.length
    window.history.replaceState(null, '', callbackUrl(p, { state: 'forged' }))
    const page = createOAuthClient(clientOptions(p, { clientId: p.clientId }))
    expect((await failure(page.handleRedirectCallback())).code).toBe('invalid_state')
    expect(p.requests.length).toBe(before)
  })
})

describe('handleRedirectCallback: forged, replayed and failed callbacks store nothing', () => {
  async function expectNothingStored(): Promise<void> {
    expect(await dumpNamespace(p.clientId, ['access_tokens', 'id_tokens', 'refresh_tokens'])).toEqual({})
    expect(auth.getSnapshot().status).not.toBe('authenticated')
  }

  it('checklist 2: unknown state → invalid_state, no token request', async () => {
    await startLogin(auth, p)
    const e = await failure(auth.handleRedirectCallback(callbackUrl(p, { state: 'forged' })))
    expect(e.code).toBe('invalid_state')
    expect(tokenGrants()).toHaveLength(0)
    await expectNothingStored()
  })

  it('checklist 2: missing state and duplicated state → invalid_state', async () => {
    await startLogin(auth, p)
    const url = new URL(callbackUrl(p))
    const missing = new URL(url)
    missing.searchParams.delete('state')
    expect((await failure(auth.handleRedirectCallback(missing.href))).code).toBe('invalid_state')
    const dup = new URL(url)
    dup.searchParams.append('state', 'other')
    expect((await failure(auth.handleRedirectCallback(dup.href))).code).toBe('invalid_state')
    expect(tokenGrants()).toHaveLength(0)
  })

  it('checklist 3: a replayed callback in a new page load → callback_already_handled, no second exchange', async () => {
    await startLogin(auth, p)
    const url = callbackUrl(p)
    await auth.handleRedirectCallback(url)
    const reloaded = createOAuthClient(clientOptions(p, { clientId: p.clientId }))
    const e = await failure(reloaded.handleRedirectCallback(url))
    expect(e.code).toBe('callback_already_handled')
    expect(tokenGrants()).toHaveLength(1)
  })

  it('a state from another client (namespace) → invalid_state', async () => {
    await startLogin(auth, p)
    const url = callbackUrl(p)
    const other = createOAuthClient(clientOptions(p))
    expect((await failure(other.handleRedirectCallback(url))).code).toBe('invalid_state')
  })

  it('a callback older than the transaction lifetime (10 min) → invalid_state', async () => {
    const realNow = Date.now
    try {
      await startLogin(auth, p)
      const url = callbackUrl(p)
      const later = realNow() + 11 * 60 * 1000
      Date.now = () => later
      expect((await failure(auth.handleRedirectCallback(url))).code).toBe('invalid_state')
      expect(tokenGrants()).toHaveLength(0)
    } finally {
      Date.now = realNow
    }
  })

  it('checklist 5: iss from another issuer, or iss with a trailing slash → invalid_callback, nothing sent', async () => {
    for (const iss of ['https://evil.example', `${ISSUER}/`]) {
      await startLogin(auth, p)
      expect((await failure(auth.handleRedirectCallback(callbackUrl(p, { iss })))).code).toBe('invalid_callback')
    }
    expect(tokenGrants()).toHaveLength(0)
    await expectNothingStored()
  })

  it('checklist 5: iss missing while the provider advertises it → invalid_callback', async () => {
    await startLogin(auth, p)
    const url = new URL(callbackUrl(p))
    url.searchParams.delete('iss')
    expect((await failure(auth.handleRedirectCallback(url.href))).code).toBe('invalid_callback')
    expect(tokenGrants()).toHaveLength(0)
  })

  it('checklist 6: error=access_denied → authorization_error with error and description as plain data', async () => {
    await startLogin(auth, p)
    const url = new URL(callbackUrl(p))
    url.searchParams.delete('code')
    url.searchParams.set('error', 'access_denied')
    url.searchParams.set('error_description', '<img src=x onerror=alert(1)>')
    const e = await failure(auth.handleRedirectCallback(url.href))
    expect(e.code).toBe('authorization_error')
    expect(e.error).toBe('access_denied')
    expect(e.errorDescription).toBe('<img src=x onerror=alert(1)>')
    expect(document.querySelectorAll('img')).toHaveLength(0)
    expect(tokenGrants()).toHaveLength(0)
    // The transaction is consumed: the same callback again is unknown.
    expect((await failure(createOAuthClient(clientOptions(p, { clientId: p.clientId })).handleRedirectCallback(url.href))).code).toBe('invalid_state')
  })

  it('checklist 6: an error_description of 1 MB (a crafted URL) is cut to 1,000 characters', async () => {
    await startLogin(auth, p)
    const url = new URL(callbackUrl(p))
    url.searchParams.delete('code')
    url.searchParams.set('error', 'access_denied')
    url.searchParams.set('error_description', 'x'.repeat(1 << 20))
    const e = await failure(auth.handleRedirectCallback(url.href))
    expect(e.code).toBe('authorization_error')
    expect(e.errorDescription).toBe(`${'x'.repeat(1000)}…`)
  })

  it('checklist 6: an error callback with a wrong state → invalid_state wins', async () => {
    await startLogin(auth, p)
    const url = new URL(callbackUrl(p, { state: 'forged', error: 'access_denied' }))
    url.searchParams.delete('code')
    expect((await failure(auth.handleRedirectCallback(url.href))).code).toBe('invalid_state')
  })

  it('both code and error → authorization_error, no exchange', async () => {
    await startLogin(auth, p)
    const e = await failure(auth.handleRedirectCallback(callbackUrl(p, { error: 'server_error' })))
    expect(e.code).toBe('authorization_error')
    expect(tokenGrants()).toHaveLength(0)
  })

  it('checklist 7: id_token or token in the callback (implicit/hybrid) is refused; access_token is never used', async () => {
    await startLogin(auth, p)
    expect((await failure(auth.handleRedirectCallback(callbackUrl(p, { id_token: 'x' })))).code).toBe('invalid_callback')
    await startLogin(auth, p)
    await auth.handleRedirectCallback(callbackUrl(p, { access_token: 'attacker' }))
    await expect(auth.getAccessToken()).resolves.toBe('at-1')
  })

  it('checklist 8: a duplicated code → invalid_callback, nothing sent', async () => {
    await startLogin(auth, p)
    const url = new URL(callbackUrl(p))
    url.searchParams.append('code', 'b')
    expect((await failure(auth.handleRedirectCallback(url.href))).code).toBe('invalid_callback')
    expect(tokenGrants()).toHaveLength(0)
  })

  it('checklist 8: a page loaded on a callback whose state is duplicated stops loading as soon as handleRedirectCallback rejects', async () => {
    await startLogin(auth, p)
    const url = new URL(callbackUrl(p))
    url.searchParams.append('state', url.searchParams.get('state')!)
    window.history.replaceState(null, '', url.href)
    // The page after the redirect: the same client (namespace) as the one that started the login.
    const page = createOAuthClient(clientOptions(p, { clientId: p.clientId }))
    expect(page.isRedirectCallback()).toBe(true)
    expect(page.getSnapshot().status).toBe('loading')
    expect((await failure(page.handleRedirectCallback())).code).toBe('invalid_state')
    await vi.waitFor(() => expect(page.getSnapshot()).toMatchObject({ status: 'unauthenticated', error: { code: 'invalid_state' } }), { timeout: 1000 })
    expect(new URL(location.href).searchParams.has('state')).toBe(false)
    expect(tokenGrants()).toHaveLength(0)
  })

  it('an issuer configured with a trailing slash (the provider\'s has none) still recognises and completes its callback', async () => {
    const slash = createOAuthClient(clientOptions(p, { issuer: `${ISSUER}/` }))
    await startLogin(slash, p)
    window.history.replaceState(null, '', callbackUrl(p))
    const page = createOAuthClient(clientOptions(p, { issuer: `${ISSUER}/`, clientId: p.clientId }))
    expect(page.isRedirectCallback()).toBe(true)
    await expect(page.handleRedirectCallback()).resolves.toMatchObject({ user: { sub: 'alice' } })
  })

  it('checklist 3/10: the same callback handled by two pages at once: one code exchange, one signs in, the other gets callback_already_handled', async () => {
    await startLogin(auth, p)
    const url = callbackUrl(p)
    const pages = [createOAuthClient(clientOptions(p, { clientId: p.clientId })), createOAuthClient(clientOptions(p, { clientId: p.clientId }))]
    const outcomes = await Promise.all(pages.map((page) => page.handleRedirectCallback(url).then(() => 'ok', (e: OAuthError) => e.code)))
    expect(outcomes.sort()).toEqual(['callback_already_handled', 'ok'])
    expect(tokenGrants()).toHaveLength(1)
  })

  it('checklist 3: a callback whose sign-in failed (the provider refused the code) is unknown when replayed, not "already handled"', async () => {
    await startLogin(auth, p)
    p.token = () => json({ error: 'invalid_grant' }, 400)
    const url = callbackUrl(p)
    expect((await failure(auth.handleRedirectCallback(url))).code).toBe('invalid_grant')
    const again = createOAuthClient(clientOptions(p, { clientId: p.clientId }))
    expect((await failure(again.handleRedirectCallback(url))).code).toBe('invalid_state')
  })

  it('checklist 10: the provider refusing the code (invalid_grant) → invalid_grant, nothing stored', async () => {
    await startLogin(auth, p)
    p.token = () => json({ error: 'invalid_grant', error_description: 'grant request is invalid' }, 400)
    const e = await failure(auth.handleRedirectCallback(callbackUrl(p)))
    expect(e.code).toBe('invalid_grant')
    expect(e.error).toBe('invalid_grant')
    await expectNothingStored()
  })

  it('a garbage URL → invalid_callback (no TypeError)', async () => {
    const e = await failure(auth.handleRedirectCallback('http://[::1'))
    expect(e.code).toBe('invalid_callback')
  })
})

describe('token responses that must be refused (checklist 13-27), each storing nothing', () => {
  const now = () => Math.floor(Date.now() / 1000)
  const cases: [string, (p: ScriptedProvider) => Response | Promise<Response>, string][] = [
    ['13: non-JSON body', () => new Response('not json', { status: 200, headers: { 'content-type': 'application/json' } }), 'invalid_token_response'],
    ['13: HTML error page', () => new Response('<html>oops</html>', { status: 200, headers: { 'content-type': 'text/html' } }), 'invalid_token_response'],
    ['13: empty body', () => new Response('', { status: 200, headers: { 'content-type': 'application/json' } }), 'invalid_token_response'],
    ['13: a JSON array', () => json([]), 'invalid_token_response'],
    ['14: 200 with error and no access_token', (p) => json({ error: 'invalid_request', ...p.tokens({ access_token: undefined }) }), 'invalid_token_response'],
    ['14: missing access_token', (p) => json(p.tokens({ access_token: undefined })), 'invalid_token_response'],
    ['14: missing token_type', (p) => json(p.tokens({ token_type: undefined })), 'invalid_token_response'],
    ['15: token_type "mac"', (p) => json(p.tokens({ token_type: 'mac' })), 'invalid_token_response'],
    ['14: token_type 1', (p) => json(p.tokens({ token_type: 1 })), 'invalid_token_response'],
    ['14: refresh_token {}', (p) => json(p.tokens({ refresh_token: {} })), 'invalid_token_response'],
    ['16: negative expires_in', (p) => json(p.tokens({ expires_in: -1 })), 'invalid_token_response'],
    ['16: non-numeric expires_in', (p) => json(p.tokens({ expires_in: 'soon' })), 'invalid_token_response'],
    ['17: access token with CR/LF', (p) => json(p.tokens({ access_token: 'abc\r\nX-Evil: 1' })), 'invalid_token_response'],
    ['17: access token with a space', (p) => json(p.tokens({ access_token: 'abc def' })), 'invalid_token_response'],
    ['22: no id_token under openid', (p) => json(p.tokens({ id_token: undefined })), 'invalid_token_response'],
    ['26: ID token with a wrong nonce', (p) => json(p.tokens({ id_token: idToken(p.claims({ nonce: 'other' })) })), 'invalid_token_response'],
    ['26: ID token without nonce', (p) => json(p.tokens({ id_token: idToken(p.claims({ nonce: undefined })) })), 'invalid_token_response'],
    ['24: ID token for another audience', (p) => json(p.tokens({ id_token: idToken(p.claims({ aud: 'other' })) })), 'invalid_token_response'],
    ['24: ID token with an extra audience and no azp', (p) => json(p.tokens({ id_token: idToken(p.claims({ aud: [p.clientId, 'other'] })) })), 'invalid_token_response'],
    ['23: ID token from another issuer', (p) => json(p.tokens({ id_token: idToken(p.claims({ iss: 'https://evil.example' })) })), 'invalid_token_response'],
    ['25: expired ID token', (p) => json(p.tokens({ id_token: idToken(p.claims({ exp: now() - 3600 })) })), 'invalid_token_response'],
    ['25: ID token without sub', (p) => json(p.tokens({ id_token: idToken(p.claims({ sub: undefined })) })), 'invalid_token_response'],
    ['25: ID token without iat', (p) => json(p.tokens({ id_token: idToken(p.claims({ iat: undefined })) })), 'invalid_token_response'],
    ['27: ID token with alg none even though the metadata lists none', (p) => {
      p.metadata['id_token_signing_alg_values_supported'] = ['RS256', 'none']
      return json(p.tokens({ id_token: idToken(p.claims(), { alg: 'none' }) }))
    }, 'invalid_token_response'],
    ['27: ID token with alg HS256', (p) => json(p.tokens({ id_token: idToken(p.claims(), { alg: 'HS256' }) })), 'invalid_token_response'],
    ['13: 500 from the token endpoint', () => json({ error: 'server_error' }, 500), 'network_error'],
    ['20: redirect from the token endpoint', () => new Response(null, { status: 307, headers: { location: 'https://evil.example' } }), 'redirect_not_allowed'],
  ]

  it.each(cases)('checklist %s → %s, nothing stored; checklist 34: the error carries no token', async (_name, respond, code) => {
    await startLogin(auth, p)
    p.token = () => respond(p)
    const e = await failure(auth.handleRedirectCallback(callbackUrl(p)))
    expect(e.code).toBe(code)
    await expectNothingStoredFor(p)
    // Checklist 34: no token material in what the app sees.
    const seen = `${String(e)} ${JSON.stringify(e)} ${JSON.stringify(e.cause)}`
    expect(seen).not.toMatch(/at-\d|rt-\d|eyJ/)
  })

  async function expectNothingStoredFor(p: ScriptedProvider): Promise<void> {
    expect(await dumpNamespace(p.clientId, ['access_tokens', 'id_tokens', 'refresh_tokens'])).toEqual({})
  }

  it('checklist 15/16: token_type "bEARER" and expires_in "3600" and no expires_in are accepted', async () => {
    for (const extra of [{ token_type: 'bEARER' }, { expires_in: '3600' }, { expires_in: undefined }]) {
      await startLogin(auth, p)
      p.token = () => json(p.tokens(extra))
      await expect(auth.handleRedirectCallback(callbackUrl(p))).resolves.toMatchObject({ user: { sub: 'alice' } })
    }
  })

  it('checklist 24: aud as a one-element array is accepted', async () => {
    await startLogin(auth, p)
    p.token = () => json(p.tokens({ id_token: idToken(p.claims({ aud: [p.clientId] })) }))
    await expect(auth.handleRedirectCallback(callbackUrl(p))).resolves.toMatchObject({ user: { sub: 'alice' } })
  })

  it('checklist 20: a hung token endpoint fails with timeout within requestTimeoutSeconds', async () => {
    auth = createOAuthClient(clientOptions(p, { requestTimeoutSeconds: 0.2 }))
    await startLogin(auth, p)
    p.token = () => new Promise<Response>(() => {})
    const started = Date.now()
    const e = await failure(auth.handleRedirectCallback(callbackUrl(p)))
    expect(e.code).toBe('timeout')
    expect(Date.now() - started).toBeLessThan(3000)
    await expectNothingStoredFor(p)
  })

  it('network failure at the token endpoint → network_error, nothing stored', async () => {
    await startLogin(auth, p)
    p.token = () => Promise.reject(new TypeError('Failed to fetch'))
    expect((await failure(auth.handleRedirectCallback(callbackUrl(p)))).code).toBe('network_error')
    await expectNothingStoredFor(p)
  })
})

describe('checklist 29: max_age (sent through extraParams) is enforced on the ID token auth_time', () => {
  const nowSeconds = () => Math.floor(Date.now() / 1000)
  const withMaxAge = { extraParams: { max_age: '60' } }

  it('a recent auth_time passes, and max_age is on the authorization request', async () => {
    const authorization = await startLogin(auth, p, withMaxAge)
    expect(authorization.searchParams.get('max_age')).toBe('60')
    p.token = () => json(p.tokens({ id_token: idToken(p.claims({ auth_time: nowSeconds() - 10 })) }))
    await expect(auth.handleRedirectCallback(callbackUrl(p))).resolves.toMatchObject({ user: { sub: 'alice' } })
  })

  it.each([
    ['an auth_time older than max_age', () => ({ auth_time: nowSeconds() - 3600 })],
    ['no auth_time at all', () => ({ auth_time: undefined })],
  ])('%s: invalid_token_response, nothing stored, signed out', async (_name, claims) => {
    await startLogin(auth, p, withMaxAge)
    p.token = () => json(p.tokens({ id_token: idToken(p.claims(claims())) }))
    const e = await failure(auth.handleRedirectCallback(callbackUrl(p)))
    expect(e.code).toBe('invalid_token_response')
    expect(await dumpNamespace(p.clientId, ['access_tokens', 'id_tokens', 'refresh_tokens'])).toEqual({})
    expect(auth.getSnapshot().status).toBe('unauthenticated')
  })

  it('without max_age an old auth_time is accepted (nothing was asked)', async () => {
    await startLogin(auth, p)
    p.token = () => json(p.tokens({ id_token: idToken(p.claims({ auth_time: nowSeconds() - 86_400 })) }))
    await expect(auth.handleRedirectCallback(callbackUrl(p))).resolves.toMatchObject({ user: { sub: 'alice' } })
  })

  it('a max_age that is not a number of seconds is a configuration_error and nothing navigates', async () => {
    const before = p.navigations.length
    const e = await failure(auth.login({ extraParams: { max_age: '1h' } }))
    expect(e.code).toBe('configuration_error')
    expect(p.navigations.length).toBe(before)
  })
})

describe('checklist 37: two clients on one redirect URI', () => {
  it('the client that does not own the callback leaves the address bar alone, stops loading at once, and the owner still signs in', async () => {
    const owner = auth
    const url = new URL(await startLogin(owner, p))
    expect(url.searchParams.get('state')).toBeTruthy()
    window.history.replaceState(null, '', callbackUrl(p))
    const ownerId = p.clientId
    const other = createOAuthClient(clientOptions(p, { clientId: `${ownerId}-other` }))
    p.clientId = ownerId // ID tokens are issued to the owner
    // Same issuer, same redirect URI: the state tells whose callback it is (the owner's pending sign-in).
    expect(other.isRedirectCallback()).toBe(false)
    await vi.waitFor(() => expect(other.getSnapshot().status).toBe('unauthenticated'), { timeout: 2_000 })
    const e = await failure(other.handleRedirectCallback())
    expect(e.code).toBe('invalid_state')
    expect(location.search).toMatch(/code=/)
    expect(owner.isRedirectCallback()).toBe(true)
    await expect(owner.handleRedirectCallback()).resolves.toMatchObject({ user: { sub: 'alice' } })
    expect(location.search).not.toMatch(/code=|state=/)
  })

  it("storage: 'memory' leaves nothing in web storage once the sign-in completed; a replay is then invalid_state", async () => {
    const memory = createOAuthClient(clientOptions(p, { storage: 'memory' }))
    await startLogin(memory, p)
    const url = callbackUrl(p)
    const page = createOAuthClient(clientOptions(p, { storage: 'memory', clientId: p.clientId }))
    expect(page.isRedirectCallback(url)).toBe(true)
    await page.handleRedirectCallback(url)
    const mine = (storage: Storage) => Object.keys(storage).filter((k) => k.includes(p.clientId))
    expect({ session: mine(sessionStorage), local: mine(localStorage) }).toEqual({ session: [], local: [] })
    const replay = createOAuthClient(clientOptions(p, { storage: 'memory', clientId: p.clientId }))
    expect((await failure(replay.handleRedirectCallback(url))).code).toBe('invalid_state')
  })

  it('isRedirectCallback is true only for a callback of a pending sign-in', async () => {
    const forged = `${APP}/callback?code=abc&state=nosuchstate&iss=${encodeURIComponent(ISSUER)}`
    expect(auth.isRedirectCallback(forged)).toBe(false)
    await startLogin(auth, p)
    expect(auth.isRedirectCallback(forged)).toBe(false)
    const url = callbackUrl(p)
    expect(auth.isRedirectCallback(url)).toBe(true)
    await auth.handleRedirectCallback(url)
    // The same URL loaded again once the sign-in completed: no longer a callback of a pending
    // sign-in; handled anyway, it is answered as already handled.
    const reloaded = createOAuthClient(clientOptions(p, { clientId: p.clientId }))
    expect(reloaded.isRedirectCallback(url)).toBe(false)
    expect((await failure(reloaded.handleRedirectCallback(url))).code).toBe('callback_already_handled')
    // No sign-in of this client is pending any more in localStorage once it completed.
    expect(Object.keys(localStorage).filter((k) => k.includes(p.clientId))).toEqual([])
  })

  it('isRedirectCallback tells clients apart by the issuer in the response (RFC 9207) and by the redirect URI\'s own query', async () => {
    await startLogin(auth, p)
    window.history.replaceState(null, '', callbackUrl(p))
    const otherIssuer = createOAuthClient({ ...clientOptions(p, { clientId: p.clientId }), issuer: 'https://op2.example' })
    expect(otherIssuer.isRedirectCallback()).toBe(false)
    const withQuery = createOAuthClient(clientOptions(p, { clientId: p.clientId, redirectUri: `${APP}/callback?client=b` }))
    expect(withQuery.isRedirectCallback()).toBe(false)
    expect(withQuery.isRedirectCallback(`${callbackUrl(p)}&client=b`)).toBe(true)
    expect(auth.isRedirectCallback()).toBe(true)
  })
})
