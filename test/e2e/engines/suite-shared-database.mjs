// Two clients in one app origin share the IndexedDB database `oauth-spa`; each keeps its records
// under its namespace `issuer|clientId`. A sign-in and a logout delete a client's access tokens
// (and a logout its transactions) by key range, not key by key (src/store/indexeddb.ts
// `prefixRange`, the `prefix` ops of src/store/token-store.ts): this suite proves, in each engine's
// own IndexedDB, that such a range takes that client's records and nothing of its neighbour's.
// Written once against the driver contract (README.md); `run.mjs` runs it per engine.
//
// The neighbour's client id is this client's id followed by `}`: its keys start with this client's
// namespace, sort right after this client's range and begin exactly at the range's exclusive upper
// bound (`…|spa-e2e}`). A range open above, one that reaches into the next prefix, or one built on
// the namespace without its `|` takes the neighbour's access token at A's logout; a range open
// below takes A's at B's sign-in. (`}` is a valid client_id character, RFC 6749 Appendix A.1.)
import assert from 'node:assert/strict'
import { test } from 'node:test'

import { decodeJwt } from 'jose'

import { CLIENT_ID } from '../support/servers.mjs'
import { DB_NAME, call, dumpIndexedDb, snapshot } from '../support/browser-helpers.mjs'
import { assertMatch, browserPerSuite, currentToken, loadEngine, signedIn, waitForApp, waitForStatus } from './suite-helpers.mjs'

const ENGINE = process.env.E2E_ENGINE ?? 'chromium'
const driver = await loadEngine(ENGINE)
const TIMEOUT = 120_000
const NEIGHBOUR = `${CLIENT_ID}}`

const withStack = browserPerSuite(driver)
const name = (s) => `${ENGINE}: ${s}`

/** Every record of `namespace` in every object store of the SDK's database: its own key, or keys under `namespace|`. */
async function recordsOf(page, namespace) {
  const stores = (await dumpIndexedDb(page))[DB_NAME]?.stores ?? {}
  const own = (key) => key === namespace || String(key).startsWith(`${namespace}|`)
  return Object.fromEntries(Object.entries(stores).map(([store, rows]) => [store, rows.filter((r) => own(r.key))]))
}

const counts = (records) => Object.fromEntries(Object.entries(records).map(([store, rows]) => [store, rows.length]))
// A signed-in client's records; in `transactions`, the mark of its completed callback (`…|done|<state>`),
// which a logout deletes by range too.
const SIGNED_IN = { access_tokens: 1, id_tokens: 1, refresh_tokens: 1, dpop_keys: 0, transactions: 1 }
const NOTHING = { access_tokens: 0, id_tokens: 0, refresh_tokens: 0, dpop_keys: 0, transactions: 0 }

test(name("11. two clients of one issuer share the database: B's sign-in keeps A's records; A's logout wipes A's only; B's session and tokens survive, read back from IndexedDB and through B's client"), { timeout: TIMEOUT }, () =>
  withStack({ moreClientIds: [NEIGHBOUR] }, async (servers, newPage) => {
    const { provider, api } = servers
    const nsA = `${provider.issuer}|${CLIENT_ID}`
    const nsB = `${provider.issuer}|${NEIGHBOUR}`

    const pageA = await newPage()
    await signedIn(pageA, servers)
    const a = await recordsOf(pageA, nsA)
    assert.deepEqual(counts(a), SIGNED_IN, `A's records after its sign-in: ${JSON.stringify(counts(a))}`)

    // B: the same app origin, another client id. Its sign-in deletes B's access tokens by range.
    // (prompt=login: the provider session of A's sign-in would otherwise skip the form.)
    servers.setAppConfig({ clientId: NEIGHBOUR })
    const pageB = await newPage()
    await signedIn(pageB, servers, { prompt: 'login' })
    const b = await recordsOf(pageB, nsB)
    assert.deepEqual(counts(b), SIGNED_IN, `B's records after its sign-in: ${JSON.stringify(counts(b))}`)
    const bAccess = b.access_tokens[0].value.token
    assert.equal(decodeJwt(bAccess).client_id, NEIGHBOUR)
    assert.deepEqual(await recordsOf(pageB, nsA), a, "B's sign-in changed A's records")

    // A signs out (local only: the provider keeps B's grant, so B's refresh token stays usable there).
    servers.resetStats()
    assert.equal(await pageA.evaluate(() => window.auth.logout({ localOnly: true }).then(() => true)), true)
    await waitForStatus(pageA, 'unauthenticated')
    assert.deepEqual(counts(await recordsOf(pageA, nsA)), NOTHING, "A's logout left some of A's records")
    assert.deepEqual(await recordsOf(pageA, nsB), b, "A's logout changed B's records")
    // Nothing in the token stores besides B's: the wipe did not miss a record of A under another key.
    const stores = (await dumpIndexedDb(pageA))[DB_NAME].stores
    for (const store of ['access_tokens', 'id_tokens', 'refresh_tokens']) {
      assert.deepEqual(stores[store].map((r) => r.key), b[store].map((r) => r.key), `${store} holds more than B's records`)
    }
    assert.equal(provider.stats.revocations, 1, "A's refresh token was not revoked: the logout did not run through")
    assertMatch(await currentToken(pageA), { ok: false, error: { code: 'login_required' } })

    // B's client: still signed in, hands out its stored access token without asking the provider.
    assertMatch(await snapshot(pageB), { status: 'authenticated', user: { sub: 'alice' } })
    assertMatch(await currentToken(pageB), { ok: true, token: bAccess }, "B's client does not hand out its stored access token")
    // A reload reads B's session from IndexedDB again.
    await pageB.reload()
    await waitForApp(pageB)
    await waitForStatus(pageB, 'authenticated')
    assertMatch(await currentToken(pageB), { ok: true, token: bAccess }, "after a reload B's client does not find its access token")
    assert.equal(provider.stats.requests.token ?? 0, 0, "B's client asked the provider for a token")
    // B's stored refresh token is read and accepted: a forced refresh is one refresh grant of client B.
    const refreshed = await pageB.evaluate(() => window.e2e.token({ forceRefresh: true }))
    assert.ok(refreshed.ok && refreshed.token !== bAccess, `forced refresh of B: ${JSON.stringify(refreshed.error ?? 'same token')}`)
    assert.deepEqual(provider.stats.grants, { refresh_token: 1 })
    assertMatch(provider.stats.events.find((e) => e.type === 'grant.success'), { grantType: 'refresh_token', clientId: NEIGHBOUR })
    assertMatch(await call(pageB, `${api.url}/api/me`), { ok: true, status: 200, body: { sub: 'alice', client_id: NEIGHBOUR } })
  }))
