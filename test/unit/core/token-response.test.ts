import type * as oauth from 'oauth4webapi'
import { describe, expect, it } from 'vitest'
import { OAuthError } from '../../../src/index.js'
import { acceptTokens, DEFAULT_EXPIRES_IN, MAX_EXPIRES_IN } from '../../../src/provider/token-response.js'

const base = { access_token: 'abc.DEF-_~+/123=', token_type: 'bearer' } as oauth.TokenEndpointResponse
const now = 1_000_000

function refused(tokens: Partial<oauth.TokenEndpointResponse>, dpop = false): OAuthError {
  try {
    acceptTokens({ ...base, ...tokens } as oauth.TokenEndpointResponse, { dpop, scope: 'openid' }, now)
  } catch (e) {
    expect(e).toBeInstanceOf(OAuthError)
    return e as OAuthError
  }
  throw new Error('accepted')
}

describe('token response checks the SDK adds to oauth4webapi', () => {
  it.each(['abc\r\nX-Evil: 1', 'abc def', 'abc,Bearer x', 'é', 'abc\u0000', ' abc', 'a=b'])(
    'checklist 17: access token %j outside b64token is refused as invalid_token_response',
    (token) => {
      expect(refused({ access_token: token }).code).toBe('invalid_token_response')
    },
  )
  it('checklist 17: a refresh token outside RFC 6749 §A.17 VSCHAR (a control character) is refused too', () => {
    expect(refused({ refresh_token: 'r\nt' }).code).toBe('invalid_token_response')
  })
  it('checklist 15: DPoP mode with a Bearer token is a dpop_error, not a silent downgrade', () => {
    expect(refused({ token_type: 'bearer' }, true).code).toBe('dpop_error')
  })
  it('checklist 15: Bearer mode with a DPoP token is refused', () => {
    expect(refused({ token_type: 'dpop' }).code).toBe('invalid_token_response')
  })
  it('checklist 16: absent expires_in gets the short default; a huge one is capped; one second is kept for exp rounding', () => {
    expect(acceptTokens(base, { dpop: false, scope: 's' }, now).expiresAt).toBe(now + (DEFAULT_EXPIRES_IN - 1) * 1000)
    const huge = acceptTokens({ ...base, expires_in: 1e12 }, { dpop: false, scope: 's' }, now)
    expect(huge.expiresAt).toBe(now + (MAX_EXPIRES_IN - 1) * 1000)
    expect(acceptTokens({ ...base, expires_in: 60 }, { dpop: false, scope: 's' }, now).expiresAt).toBe(now + 59_000)
    expect(acceptTokens({ ...base, expires_in: 0 }, { dpop: false, scope: 's' }, now).expiresAt).toBe(now)
  })
  it('checklist 18: the granted scope is recorded; absent scope means as requested', () => {
    expect(acceptTokens({ ...base, scope: 'a' }, { dpop: false, scope: 'a b' }, now).scope).toBe('a')
    expect(acceptTokens(base, { dpop: false, scope: 'a b' }, now).scope).toBe('a b')
  })
  it('checklist 19: only known fields are kept', () => {
    const kept = acceptTokens({ ...base, x_secret: 'leak' } as oauth.TokenEndpointResponse, { dpop: false, scope: 's' }, now)
    expect(Object.keys(kept).sort()).toEqual(['accessToken', 'expiresAt', 'idToken', 'refreshToken', 'scope', 'tokenType'])
    expect(JSON.stringify(kept)).not.toContain('leak')
  })
})
