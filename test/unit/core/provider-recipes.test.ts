// The options behind docs/providers/: metadata override, end-session shape, authorization params,
// offline_access handling and the Entra issuer template (pure logic; the end-to-end proofs are in
// test/e2e/recipes/).
import * as oauth from 'oauth4webapi'
import { describe, expect, it } from 'vitest'
import { resolveConfig } from '../../../src/config.js'
import { OAuthError } from '../../../src/errors.js'
import { expectedIssuer } from '../../../src/provider/templated-issuer.js'
import { withIssuerTemplate } from '../../../src/provider/templated-issuer.js'
import { applyMetadataOverride } from '../../../src/provider/provider.js'
import { effectiveScope, missingRefreshToken, promptFor } from '../../../src/provider/offline-access.js'
import type { OAuthClientOptions } from '../../../src/types.js'

const good: OAuthClientOptions = { issuer: 'https://op.example', clientId: 'spa', redirectUri: 'https://app.example/callback' }
const as = (extra: Record<string, unknown> = {}) => ({ issuer: 'https://op.example', ...extra }) as oauth.AuthorizationServer

function configError(options: Partial<OAuthClientOptions> & Record<string, unknown>): string {
  try {
    resolveConfig({ ...good, ...options } as OAuthClientOptions)
  } catch (e) {
    expect(e).toBeInstanceOf(OAuthError)
    expect((e as OAuthError).code).toBe('configuration_error')
    return (e as OAuthError).message
  }
  throw new Error('accepted')
}

describe('metadata override', () => {
  it('sets a logout URL discovery does not advertise and removes a field with null', () => {
    const config = resolveConfig({ ...good, metadata: { end_session_endpoint: 'https://op.example/logout', revocation_endpoint: null } })
    const merged = applyMetadataOverride(as({ revocation_endpoint: 'https://op.example/revoke', token_endpoint: 'https://op.example/token' }), config.metadata)
    expect(merged.end_session_endpoint).toBe('https://op.example/logout')
    expect('revocation_endpoint' in merged).toBe(false)
    expect(merged.token_endpoint).toBe('https://op.example/token')
  })
  it('refuses the issuer and the endpoints that must come from discovery, and non-https URLs', () => {
    expect(configError({ metadata: { token_endpoint: 'https://evil.example/token' } as never })).toMatch(/cannot set "token_endpoint"/)
    expect(configError({ metadata: { issuer: 'https://evil.example' } as never })).toMatch(/cannot set "issuer"/)
    expect(configError({ metadata: { end_session_endpoint: 'javascript:alert(1)' } })).toMatch(/https/)
    expect(configError({ metadata: { end_session_endpoint: 'http://op.example/logout' } })).toMatch(/https/)
    expect(configError({ metadata: { scopes_supported: 'openid' as never } })).toMatch(/array/)
  })
})

describe('end-session shape and authorization params', () => {
  it('defaults to OIDC and accepts Cognito/Auth0 parameter names', () => {
    expect(resolveConfig(good).endSession).toEqual({ returnToParameter: 'post_logout_redirect_uri', idTokenHint: true })
    expect(resolveConfig({ ...good, endSession: { returnToParameter: 'logout_uri', idTokenHint: false } }).endSession).toEqual({
      returnToParameter: 'logout_uri',
      idTokenHint: false,
    })
    expect(configError({ endSession: { returnToParameter: 'state' } })).toMatch(/returnToParameter/)
    expect(configError({ endSession: { returnToParameter: 'a b' } })).toMatch(/returnToParameter/)
  })
  it('authorizationParams cannot set what the SDK sets', () => {
    expect(resolveConfig({ ...good, authorizationParams: { audience: 'https://api.example' } }).authorizationParams).toEqual({ audience: 'https://api.example' })
    for (const name of ['scope', 'state', 'code_challenge', 'redirect_uri', 'client_id', 'nonce', 'resource']) {
      expect(configError({ authorizationParams: { [name]: 'x' } })).toMatch(new RegExp(`authorizationParams.${name}`))
    }
    expect(configError({ authorizationParams: { audience: 1 as never } })).toMatch(/must be a string/)
  })
})

describe('offline_access', () => {
  it('the default scope drops offline_access only where scopes_supported does not list it', () => {
    const scope = 'openid profile email offline_access'
    expect(effectiveScope(scope, true, as({ scopes_supported: ['openid', 'email', 'profile'] }))).toBe('openid profile email')
    expect(effectiveScope(scope, true, as({ scopes_supported: ['openid', 'offline_access'] }))).toBe(scope)
    expect(effectiveScope(scope, true, as())).toBe(scope)
    // A scope the app chose is sent as it is.
    expect(effectiveScope(scope, false, as({ scopes_supported: ['openid'] }))).toBe(scope)
  })
  it('offlineAccessConsent adds consent to prompt when the scope has offline_access, never to prompt=none', () => {
    expect(promptFor(undefined, 'openid offline_access', true)).toBe('consent')
    expect(promptFor('login', 'openid offline_access', true)).toBe('login consent')
    expect(promptFor('none', 'openid offline_access', true)).toBe('none')
    expect(promptFor(undefined, 'openid', true)).toBeUndefined()
    expect(promptFor(undefined, 'openid offline_access', false)).toBeUndefined()
  })
  it('a sign-in that asked for offline_access and got no refresh token is a finding; one that got it is not', () => {
    const dropped = missingRefreshToken({ requestedScope: 'openid offline_access', grantedScope: 'openid', refreshToken: false })
    expect(dropped?.code).toBe('configuration_error')
    expect(dropped?.message).toMatch(/granted scope does not include it/)
    expect(dropped?.message).toMatch(/offlineAccessConsent/)
    expect(missingRefreshToken({ requestedScope: 'openid offline_access', grantedScope: 'openid offline_access', refreshToken: true })).toBeUndefined()
    expect(missingRefreshToken({ requestedScope: 'openid', grantedScope: 'openid', refreshToken: false })).toBeUndefined()
  })
})

describe('issuer template (Entra multi-tenant)', () => {
  const template = 'https://login.example/{tenantid}/v2.0'
  const tid = '9188040d-6c67-4c5b-b112-36a304b66dad'
  it('fills {tenantid} with a GUID tid only', () => {
    expect(expectedIssuer(template, { tid })).toBe(`https://login.example/${tid}/v2.0`)
    expect(expectedIssuer(template, { tid: '../evil' })).toBeUndefined()
    expect(expectedIssuer(template, {})).toBeUndefined()
  })
  it('must name {tenantid} once and share the issuer origin', () => {
    expect(configError({ issuer: 'https://login.example/common/v2.0', issuerTemplate: 'https://login.example/v2.0' })).toMatch(/exactly once/)
    expect(configError({ issuer: 'https://login.example/common/v2.0', issuerTemplate: 'https://other.example/{tenantid}/v2.0' })).toMatch(/same origin/)
  })
  it('hooks into oauth4webapi: the rule is attached and refuses a token without tid', () => {
    const hooked = withIssuerTemplate(as({ issuer: template }), template) as unknown as Record<symbol, (r: { claims: Record<string, unknown> }) => string>
    const symbol = (oauth as unknown as Record<string, symbol>)['_expectedIssuer'] as symbol
    expect(typeof hooked[symbol]).toBe('function')
    expect(hooked[symbol]({ claims: { tid } })).toBe(`https://login.example/${tid}/v2.0`)
    expect(() => hooked[symbol]({ claims: {} })).toThrow(/tid/)
  })
})
