import { describe, expect, it, vi } from 'vitest'
import { readChallenge } from '../../../src/fetch/challenge.js'
import { createStepUp, stepUpLogin } from '../../../src/fetch/step-up.js'
import type { LoginOptions } from '../../../src/types.js'

const answer = (header: string | undefined, status = 401) =>
  new Response('{"body":"kept"}', { status, headers: header === undefined ? {} : { 'www-authenticate': header } })

describe('readChallenge', () => {
  it('RFC 9470: insufficient_user_authentication with acr_values and max_age, and RFC 9728 resource_metadata', async () => {
    const r = answer('Bearer error="insufficient_user_authentication", error_description="stronger please", acr_values="urn:a urn:b", max_age="60", resource_metadata="https://api.example/.well-known/oauth-protected-resource"')
    expect(await readChallenge(r)).toEqual({
      scheme: 'bearer',
      error: 'insufficient_user_authentication',
      errorDescription: 'stronger please',
      acrValues: ['urn:a', 'urn:b'],
      maxAge: 60,
      resourceMetadata: 'https://api.example/.well-known/oauth-protected-resource',
    })
    // The body was not read.
    expect(await r.text()).toBe('{"body":"kept"}')
  })

  it('RFC 6750: insufficient_scope with scope, invalid_token; RFC 9449: use_dpop_nonce picked over a bare Bearer', async () => {
    expect(await readChallenge(answer('Bearer error="insufficient_scope", scope="api:write  api:admin"', 403))).toEqual({ scheme: 'bearer', error: 'insufficient_scope', scope: 'api:write api:admin' })
    expect(await readChallenge(answer('Bearer error="invalid_token", error_description="expired"'))).toMatchObject({ error: 'invalid_token' })
    expect(await readChallenge(answer('Bearer realm="api", DPoP algs="ES256", error="use_dpop_nonce"'))).toMatchObject({ scheme: 'dpop', error: 'use_dpop_nonce' })
  })

  it('no header, an unparsable header, bad max_age or metadata, and a non-Response give undefined or drop the field', async () => {
    expect(await readChallenge(answer(undefined))).toBeUndefined()
    expect(await readChallenge(answer('==='))).toBeUndefined()
    expect(await readChallenge(answer('Bearer error="insufficient_user_authentication", max_age="-1", resource_metadata="not a url"'))).toEqual({ scheme: 'bearer', error: 'insufficient_user_authentication' })
    expect(await readChallenge({} as Response)).toBeUndefined()
    expect(await readChallenge(null as unknown as Response)).toBeUndefined()
    // A look-alike whose headers.get() answers something other than a string has no header value.
    for (const value of [42, {}, ['Bearer'], true]) {
      expect(await readChallenge({ headers: { get: () => value } } as unknown as Response), JSON.stringify(value)).toBeUndefined()
    }
  })
})

describe('step-up', () => {
  it('asks for acr_values and max_age, or the union of scopes; nothing for other challenges or scopes already held', () => {
    expect(stepUpLogin({ scheme: 'bearer', error: 'insufficient_user_authentication', acrValues: ['urn:b'], maxAge: 5 }, 'openid')).toEqual({ acrValues: ['urn:b'], maxAge: 5 })
    expect(stepUpLogin({ scheme: 'bearer', error: 'insufficient_user_authentication' }, 'openid')).toEqual({ prompt: 'login' })
    expect(stepUpLogin({ scheme: 'bearer', error: 'insufficient_scope', scope: 'b c' }, 'openid b')).toEqual({ scope: 'openid b c' })
    expect(stepUpLogin({ scheme: 'bearer', error: 'insufficient_scope', scope: 'b' }, 'openid b')).toBeUndefined()
    expect(stepUpLogin({ scheme: 'bearer', error: 'invalid_token' }, 'openid')).toBeUndefined()
    expect(stepUpLogin(undefined, 'openid')).toBeUndefined()
  })

  it('popup: concurrent challenges share one sign-in; the token a step-up produced is not stepped up again for the same challenge', async () => {
    const calls: LoginOptions[] = []
    let finish!: () => void
    const stepUp = createStepUp({
      mode: 'popup',
      popup: (o) => {
        calls.push(o)
        return new Promise<void>((resolve) => (finish = resolve))
      },
      redirect: () => new Promise<never>(() => {}),
      currentScope: () => 'openid',
    })!
    const challenge = [{ scheme: 'bearer', parameters: { error: 'insufficient_user_authentication', acr_values: 'urn:mfa' } }]
    const a = stepUp.plan(challenge, 'old')!
    const b = stepUp.plan(challenge, 'old')!
    const both = Promise.all([a.run(), b.run()])
    finish()
    await both
    expect(calls).toEqual([{ acrValues: ['urn:mfa'] }])
    a.spend('new')
    expect(stepUp.plan(challenge, 'new')).toBeUndefined()
    expect(stepUp.plan(challenge, 'other')).toBeDefined()
  })

  it('redirect: login() with returnTo the current location; none: no step-up at all', () => {
    const seen: LoginOptions[] = []
    history.replaceState(null, '', '/orders/7?tab=1#x')
    const stepUp = createStepUp({
      mode: 'redirect',
      popup: () => Promise.resolve(),
      redirect: (o) => {
        seen.push(o)
        return new Promise<never>(() => {})
      },
      currentScope: () => 'openid',
    })!
    void stepUp.plan([{ scheme: 'bearer', parameters: { error: 'insufficient_scope', scope: 'w' } }], 't')!.run()
    expect(seen).toEqual([{ scope: 'openid w', returnTo: '/orders/7?tab=1#x' }])
    expect(createStepUp({ mode: 'none', popup: () => Promise.resolve(), redirect: () => new Promise<never>(() => {}), currentScope: () => undefined })).toBeUndefined()
  })
})

describe('auth.fetch step-up when the popup is blocked', () => {
  it('returns the challenged response as it came and reports popup_blocked; no retry, no rejection', async () => {
    const { createAuthFetch } = await import('../../../src/fetch/auth-fetch.js')
    const { parseChallenges } = await import('../../../src/fetch/challenge-parse.js')
    const { resolveConfig } = await import('../../../src/config.js')
    const { OAuthError } = await import('../../../src/errors.js')
    const config = resolveConfig({ issuer: 'https://op.example', clientId: 'c', redirectUri: 'https://app.example/cb', apiOrigins: ['https://api.example'] })
    const sent: string[] = []
    const original = globalThis.fetch
    globalThis.fetch = (async (url: string, init: RequestInit) => {
      sent.push(new Headers(init.headers).get('authorization') ?? '')
      return answer('Bearer error="insufficient_user_authentication", acr_values="urn:mfa"')
    }) as typeof fetch
    const reported: string[] = []
    try {
      const authFetch = createAuthFetch({
        config,
        getAccessToken: async () => 'at-1',
        challenges: (r) => parseChallenges(r.headers.get('www-authenticate')!),
        stepUp: async () =>
          createStepUp({
            mode: 'popup',
            popup: () => Promise.reject(new OAuthError('popup_blocked', 'blocked')),
            redirect: () => new Promise<never>(() => {}),
            currentScope: () => 'openid',
          }),
        report: (e) => reported.push(e.code),
      })
      const r = await authFetch('https://api.example/strong')
      expect(r.status).toBe(401)
      expect(await readChallenge(r)).toMatchObject({ error: 'insufficient_user_authentication', acrValues: ['urn:mfa'] })
      expect(await r.text()).toBe('{"body":"kept"}')
      expect(reported).toEqual(['popup_blocked'])
      expect(sent).toEqual(['Bearer at-1'])
    } finally {
      globalThis.fetch = original
    }
  })
})

describe('readChallenge when the parser cannot be loaded', () => {
  it('rejects with network_error (never the browser\'s bare TypeError), and loads it on the next call', async () => {
    vi.resetModules()
    let fail = true
    vi.doMock('../../../src/provider/protocol.js', async (original) => {
      if (fail) throw new TypeError('error loading dynamically imported module')
      return original()
    })
    try {
      const { readChallenge: read } = await import('../../../src/fetch/challenge.js')
      const r = () => answer('Bearer error="insufficient_scope", scope="w"', 403)
      await expect(read(r())).rejects.toMatchObject({ name: 'OAuthError', code: 'network_error' })
      fail = false
      await expect(read(r())).resolves.toMatchObject({ error: 'insufficient_scope', scope: 'w' })
    } finally {
      vi.doUnmock('../../../src/provider/protocol.js')
      vi.resetModules()
    }
  })
})
