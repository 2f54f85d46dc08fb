import { describe, expect, it, vi } from 'vitest'

/** A fresh copy of the errors module, as a second bundle of the SDK would have. */
async function freshCopy(): Promise<typeof import('../../../src/errors.js')> {
  vi.resetModules()
  return import('../../../src/errors.js')
}

describe('isOAuthError', () => {
  it('recognises an OAuthError made by another copy of the SDK (another bundle), with and without a code', async () => {
    const a = await freshCopy()
    const b = await freshCopy()
    expect(a.OAuthError).not.toBe(b.OAuthError)
    const fromB = new b.OAuthError('login_required', 'no session')
    expect(a.isOAuthError(fromB)).toBe(true)
    expect(a.isOAuthError(fromB, 'login_required')).toBe(true)
    expect(a.isOAuthError(fromB, 'invalid_state')).toBe(false)
    expect(b.isOAuthError(new a.OAuthError('timeout', 'slow'), 'timeout')).toBe(true)
  })

  it('is false for look-alikes and non-objects', async () => {
    const { isOAuthError } = await freshCopy()
    const lookAlike = Object.assign(new Error('x'), { name: 'OAuthError', code: 'login_required' })
    for (const value of [lookAlike, { code: 'login_required' }, null, undefined, 'login_required', 42]) {
      expect(isOAuthError(value)).toBe(false)
    }
  })
})

describe('listeners', () => {
  it('subscribe() and on() refuse a listener that is not a function, and on() an unknown event, with configuration_error', async () => {
    const { createOAuthClient } = await import('../../../src/index.js')
    const { OAuthError } = await import('../../../src/errors.js')
    const auth = createOAuthClient({ issuer: 'https://op.example', clientId: 'spa', redirectUri: 'https://app.example/cb', storage: 'memory' })
    for (const call of [() => auth.subscribe(42 as never), () => auth.on('error', 'nope' as never), () => auth.on('logged_out' as never, () => {})]) {
      let thrown: unknown
      try {
        call()
      } catch (e) {
        thrown = e
      }
      expect(thrown).toBeInstanceOf(OAuthError)
      expect(thrown).toMatchObject({ code: 'configuration_error' })
    }
    expect(typeof auth.on('logout', () => {})).toBe('function')
  })
})
