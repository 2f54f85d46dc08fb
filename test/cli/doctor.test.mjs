// `oauth-spa doctor` against the bundled oidc-provider, set up correctly and then deliberately
// misconfigured, one mistake at a time: it must find each one. Real servers on 127.0.0.1, no mocks.
//
//   node --test test/cli/
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { after, before, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

import { startProvider } from '../../dev-provider/provider.mjs'
import { diagnose, run } from '../../cli/doctor.mjs'

const APP = 'http://127.0.0.1:5999' // the SPA's origin (nothing needs to listen there)
const CLIENT = 'doctor-spa'
const REDIRECT = `${APP}/callback`

/** Starts a provider with `extra` options and a client changed by `client`; runs doctor; stops it. */
async function doctorAgainst({ extra = {}, client = {}, args = [] } = {}) {
  const op = await startProvider({ clients: [{ clientId: CLIENT, redirectUris: [REDIRECT], origins: [APP], ...client }], ...extra })
  try {
    const lines = []
    const out = { write: (s) => lines.push(s) }
    const code = await run(['--issuer', op.issuer, '--client-id', CLIENT, '--origin', APP, '--redirect-uri', REDIRECT, '--json', ...args], out, out)
    const { findings } = JSON.parse(lines.join(''))
    return { code, findings, find: (check) => findings.filter((f) => f.check === check) }
  } finally {
    await op.close()
  }
}

describe('oauth-spa doctor', () => {
  it('a correct set-up: exit 0, no fail, every endpoint checked', async () => {
    const { code, findings } = await doctorAgainst()
    assert.equal(code, 0, JSON.stringify(findings, null, 1))
    assert.deepEqual(findings.filter((f) => f.level === 'fail'), [])
    for (const check of ['discovery', 'PKCE', 'token CORS', 'refresh grant', 'revocation', 'userinfo CORS', 'redirect URI', 'unregistered redirect URI', 'iss', 'DPoP', 'end-session', 'offline_access']) {
      assert.ok(findings.some((f) => f.check === check && f.level === 'ok'), `${check} ok`)
    }
  })

  it('no CORS for the origin: the token endpoint finding fails and says what to allow', async () => {
    const { code, find } = await doctorAgainst({ client: { origins: [] } })
    assert.equal(code, 1)
    const [f] = find('token CORS')
    assert.equal(f.level, 'fail')
    assert.match(f.fix, new RegExp(`allow ${APP}`))
    assert.equal(find('revocation CORS')[0]?.level, 'warn')
  })

  it('an unregistered redirect URI: refused, and the fix names it', async () => {
    const { code, find } = await doctorAgainst({ client: { redirectUris: [`${APP}/elsewhere`] } })
    assert.equal(code, 1)
    const [f] = find('redirect URI')
    assert.equal(f.level, 'fail')
    assert.match(f.fix, /register http:\/\/127\.0\.0\.1:5999\/callback exactly/)
  })

  it('no S256 in the metadata: PKCE fails', async () => {
    const { code, find } = await doctorAgainst({ extra: { discovery: { transform: (d) => ({ ...d, code_challenge_methods_supported: ['plain'] }) } } })
    assert.equal(code, 1)
    assert.equal(find('PKCE')[0].level, 'fail')
  })

  it('no refresh grant for the client: found (a warning: sign-in works, the session ends with the access token)', async () => {
    const { code, find } = await doctorAgainst({ client: { grantTypes: ['authorization_code'] } })
    const [f] = find('refresh grant')
    assert.equal(f.level, 'warn')
    assert.match(f.message, /refused for this client/)
    assert.match(f.fix, /Refresh Token grant/)
    assert.equal(code, 0)
  })

  it('a confidential client (Google "Web application"-style secret): the public client is refused', async () => {
    const { code, find } = await doctorAgainst({ client: { clientSecret: 'server-side-only' } })
    assert.equal(code, 1)
    assert.equal(find('client')[0].level, 'fail')
  })

  it('an Entra-style templated issuer needs --issuer-template; with it, discovery passes', async () => {
    const tenant = '9188040d-6c67-4c5b-b112-36a304b66dad'
    const extra = {
      issuerPath: `/${tenant}/v2.0`,
      discovery: { aliases: ['/common/v2.0/.well-known/openid-configuration'], transform: (d) => ({ ...d, issuer: d.issuer.replace(tenant, '{tenantid}') }) },
    }
    const op = await startProvider({ clients: [{ clientId: CLIENT, redirectUris: [REDIRECT], origins: [APP] }], ...extra })
    try {
      const base = { issuer: `${op.origin}/common/v2.0`, clientId: CLIENT, origin: APP, timeout: 10 }
      const without = await diagnose(base)
      assert.equal(without.find((f) => f.check === 'discovery').level, 'fail')
      const withTemplate = await diagnose({ ...base, issuerTemplate: `${op.origin}/{tenantid}/v2.0` })
      assert.equal(withTemplate.find((f) => f.check === 'discovery').level, 'ok')
    } finally {
      await op.close()
    }
  })

  it('runs directly as `node cli/doctor.mjs`: usage errors exit 2', () => {
    const r = spawnSync(process.execPath, [fileURLToPath(new URL('../../cli/doctor.mjs', import.meta.url)), '--issuer', 'https://op.example'], { encoding: 'utf8' })
    assert.equal(r.status, 2)
    assert.match(r.stderr, /--client-id is required/)
  })
})

// Keep the event loop from holding on to anything a failed test left.
before(() => {})
after(() => {})
