// DPoP (RFC 9449) end to end: the provider and the API both demand nonces, the SDK binds its
// tokens to a non-extractable key kept in IndexedDB and proves possession on every API call.
import { decodeJwt } from 'jose'

import { expect, test } from './fixtures.mjs'
import { dumpIndexedDb, signedIn, tokenValues, waitUntilExpiring, DB_NAME } from './support/browser-helpers.mjs'

const call = (page, url, init) => page.evaluate(([u, i]) => window.e2e.call(u, i), [url, init])

test.use({
  stack: {
    provider: { accessTokenTTL: 5, dpop: { requireNonce: true } },
    api: { dpop: { requireNonce: true } },
    appConfig: { dpop: true, refreshLeewaySeconds: 1 },
  },
})

test('DPoP with server nonces: bound tokens, proofs accepted by the API, refresh keeps the binding', async ({ page, servers }) => {
  const { provider, api } = servers
  await signedIn(page, servers)
  const grant = provider.stats.events.find((e) => e.type === 'grant.success' && e.grantType === 'authorization_code')
  expect(grant).toMatchObject({ dpop: true, audience: api.audience, accessTokenFormat: 'jwt' })

  const { accessToken, records } = await tokenValues(page, servers)
  expect(records.access[0].value.tokenType).toBe('dpop')
  const jkt = decodeJwt(accessToken).cnf?.jkt
  expect(jkt).toBeTruthy()

  // the key pair is in its own store, the private key not extractable
  const dump = await dumpIndexedDb(page)
  const keys = JSON.stringify(dump[DB_NAME].stores.dpop_keys)
  expect(keys).toContain('"type":"private","extractable":false')

  const me = await call(page, `${api.url}/api/me`)
  expect(me).toMatchObject({ ok: true, status: 200, body: { sub: 'alice', cnf: { jkt } } })
  // the first proof may lack the API's nonce: one use_dpop_nonce answer, then the retry succeeds
  expect(api.stats.schemes.every((s) => s === 'DPoP')).toBe(true)
  expect(api.stats.unauthorized.use_dpop_nonce ?? 0).toBeLessThanOrEqual(1)
  expect(Object.keys(api.stats.unauthorized).filter((k) => k !== 'use_dpop_nonce')).toEqual([])

  await waitUntilExpiring(accessToken, 1)
  servers.resetStats()
  const again = await call(page, `${api.url}/api/me`)
  expect(again).toMatchObject({ ok: true, status: 200, body: { sub: 'alice', cnf: { jkt } } })
  expect(provider.stats.grants).toEqual({ refresh_token: 1 })
  expect(provider.stats.errors).toEqual({})
  const refreshed = provider.stats.events.find((e) => e.type === 'grant.success')
  expect(refreshed).toMatchObject({ grantType: 'refresh_token', dpop: true, audience: api.audience })
  expect(decodeJwt((await tokenValues(page, servers)).accessToken).cnf?.jkt).toBe(jkt)
})
