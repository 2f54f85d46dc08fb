import { describe, expect, it } from 'vitest'

import { TEST_LOGIN_COOKIE, testLoginCookie, useTestUser, type TestLoginCookie } from '../../../src/testing/index.js'

describe('oauth-spa/testing: the test-login cookie', () => {
  it('is scoped to the issuer origin and carries the username', () => {
    expect(testLoginCookie({ issuer: 'http://127.0.0.1:5174/some/path', user: 'alice' })).toEqual({
      name: TEST_LOGIN_COOKIE,
      value: 'alice',
      url: 'http://127.0.0.1:5174',
    })
  })

  it('refuses an issuer that is not an absolute http(s) URL, and an empty user', () => {
    expect(() => testLoginCookie({ issuer: '127.0.0.1:5174', user: 'alice' })).toThrow(TypeError)
    expect(() => testLoginCookie({ issuer: 'file:///etc/passwd', user: 'alice' })).toThrow(TypeError)
    expect(() => testLoginCookie({ issuer: 'http://127.0.0.1:5174', user: '' })).toThrow(/user is required/)
  })

  it('useTestUser adds exactly that cookie to the context', async () => {
    const added: TestLoginCookie[] = []
    await useTestUser({ addCookies: async (cookies) => void added.push(...cookies) }, { issuer: 'http://127.0.0.1:9', user: 'bob' })
    expect(added).toEqual([{ name: 'oauth_spa_test_user', value: 'bob', url: 'http://127.0.0.1:9' }])
  })
})
