import { describe, expect, it } from 'vitest'
import { createOAuthClient, OAuthError } from '../../../src/index.js'
import type { OAuthClientOptions } from '../../../src/index.js'

const good: OAuthClientOptions = {
  issuer: 'https://op.example',
  clientId: 'spa',
  redirectUri: 'https://app.example/callback',
}

function configError(options: unknown): OAuthError {
  try {
    createOAuthClient(options as OAuthClientOptions)
  } catch (e) {
    expect(e).toBeInstanceOf(OAuthError)
    expect((e as OAuthError).code).toBe('configuration_error')
    return e as OAuthError
  }
  throw new Error('createOAuthClient accepted bad options')
}

describe('config: bad options give configuration_error at createOAuthClient', () => {
  it('missing issuer says the issuer is required', () => {
    expect(configError({ ...good, issuer: undefined }).message).toMatch(/"issuer" is required/)
  })
  it('a non-URL redirect URI names the option', () => {
    expect(configError({ ...good, redirectUri: 'callback' }).message).toMatch(/"redirectUri" must be an absolute URL/)
  })
  it('an http issuer without allowInsecureRequests says how to allow it for development', () => {
    expect(configError({ ...good, issuer: 'http://op.example' }).message).toMatch(/allowInsecureRequests/)
  })
  it('an http issuer with allowInsecureRequests is accepted', () => {
    expect(() => createOAuthClient({ ...good, issuer: 'http://127.0.0.1:9999', allowInsecureRequests: true, storage: 'memory' })).not.toThrow()
  })
  it('a redirect URI with a fragment is refused (checklist 12)', () => {
    expect(configError({ ...good, redirectUri: 'https://app.example/cb#x' }).message).toMatch(/fragment/)
  })
  it('an http redirect URI on loopback is accepted for local development, elsewhere refused', () => {
    expect(() => createOAuthClient({ ...good, redirectUri: 'http://localhost:5173/cb', storage: 'memory' })).not.toThrow()
    configError({ ...good, redirectUri: 'http://app.example/cb' })
  })
  it('missing clientId, empty scope, bad storage, bad timeout, non-object options', () => {
    configError({ ...good, clientId: '' })
    configError({ ...good, scope: '   ' })
    configError({ ...good, storage: 'localStorage' })
    configError({ ...good, requestTimeoutSeconds: 0 })
    configError({ ...good, refreshLeewaySeconds: -1 })
    configError(null)
    configError('https://op.example')
  })
  it('apiOrigins must be bare origins: a path, credentials or a non-URL is refused', () => {
    configError({ ...good, apiOrigins: ['https://api.example/v1'] })
    configError({ ...good, apiOrigins: ['https://user:pw@api.example'] })
    configError({ ...good, apiOrigins: ['api.example'] })
    configError({ ...good, apiOrigins: 'https://api.example' })
    configError({ ...good, apiOrigins: ['http://api.example'] })
  })
  it('a switch that is not a boolean is refused rather than read as false', () => {
    expect(configError({ ...good, dpop: 'yes' }).message).toMatch(/"dpop" must be true or false/)
    configError({ ...good, allowInsecureRequests: 1 })
    configError({ ...good, pushedAuthorizationRequests: 'true' })
  })
  it('a resource indicator with a fragment is refused (RFC 8707)', () => {
    configError({ ...good, resource: 'https://api.example#x' })
  })
})
