// `oauth-spa doctor` against the two independent providers of the e2e suite, started as their specs
// start them (test/e2e/providers/*.spec.mjs): Glewlwyd 2.7 (Debian package) and Better Auth 1.7
// (npm, OAuth provider plugin), each with the SPA's public client registered for APP. Doctor must
// pass the correct set-up (exit 0) and report what is really true of each provider — every
// finding is checked against the provider's own metadata, fetched here — and must fail a
// deliberate misconfiguration (exit 1). Real servers on 127.0.0.1, no mocks.
//
//   node --test test/cli/
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'

import { run } from '../../cli/doctor.mjs'
import { startBetterAuth } from '../e2e/providers/support/better-auth.mjs'
import { glewlwydInstalled, startGlewlwyd } from '../e2e/providers/support/glewlwyd.mjs'

const APP = 'http://127.0.0.1:5997' // the SPA's origin (nothing needs to listen there)
const REDIRECT = `${APP}/callback`
const POST_LOGOUT = `${APP}/logged-out`

async function doctor(op, { origin = APP, redirectUri = REDIRECT } = {}) {
  const lines = []
  const out = { write: (s) => lines.push(s) }
  const code = await run(['--issuer', op.issuer, '--client-id', op.clientId, '--origin', origin, '--redirect-uri', redirectUri, '--json'], out, out)
  const { findings } = JSON.parse(lines.join(''))
  const dump = JSON.stringify(findings, null, 1)
  return { code, findings, dump, find: (check) => findings.filter((f) => f.check === check), levels: (check) => findings.filter((f) => f.check === check).map((f) => f.level) }
}

const metadataOf = async (op) => (await fetch(`${op.issuer}/.well-known/openid-configuration`)).json()

/** Doctor with a redirect URI the provider does not know: a failing finding that names it, exit 1. */
async function unregisteredRedirectIsRefused(op) {
    const { code, dump, find } = await doctor(op, { redirectUri: `${APP}/elsewhere` })
    assert.equal(code, 1, dump)
    const [f] = find('redirect URI')
    assert.equal(f.level, 'fail')
    assert.match(f.message, /refuses http:\/\/127\.0\.0\.1:5997\/elsewhere/)
    assert.match(f.fix, /register http:\/\/127\.0\.0\.1:5997\/elsewhere exactly/)
}

describe('oauth-spa doctor against Glewlwyd 2.7', () => {
  let op
  let md
  before(async () => {
    if (!glewlwydInstalled()) throw new Error('glewlwyd is not installed (apt-get install glewlwyd; .ci/run installs it)')
    op = await startGlewlwyd({ redirectUris: [REDIRECT], postLogoutRedirectUris: [POST_LOGOUT] })
    md = await metadataOf(op)
  })
  after(async () => {
    await op?.close()
  })

  it('the correct set-up: exit 0, and its real findings', async () => {
    const { code, findings, dump, find, levels } = await doctor(op)
    assert.equal(code, 0, dump)
    assert.deepEqual(findings.filter((f) => f.level === 'fail'), [], dump)
    for (const check of ['discovery', 'PKCE', 'token CORS', 'userinfo CORS', 'redirect URI', 'unregistered redirect URI', 'end-session']) {
      assert.deepEqual(levels(check), ['ok'], `${check}: ${dump}`)
    }
    // No offline_access scope: Glewlwyd issues refresh tokens to the code flow without it.
    assert.ok(!md.scopes_supported.includes('offline_access'))
    assert.deepEqual(levels('offline_access'), ['info'])
    // DPoP offered, ES256 among the algorithms.
    assert.ok(md.dpop_signing_alg_values_supported.includes('ES256'))
    assert.deepEqual(levels('DPoP'), ['ok'])
    assert.match(find('DPoP')[0].message, /ES256/)
    // No RFC 9207 iss parameter.
    assert.notEqual(md.authorization_response_iss_parameter_supported, true)
    assert.deepEqual(levels('iss'), ['info'])
    // PAR offered but not required: nothing to say (the SDK uses it only when asked or required).
    assert.ok(md.pushed_authorization_request_endpoint)
    assert.notEqual(md.require_pushed_authorization_requests, true)
    assert.deepEqual(find('PAR'), [])
    // Revocation only with client authentication: a public client cannot revoke (a warning).
    assert.ok(!md.revocation_endpoint_auth_methods_supported.includes('none'))
    assert.deepEqual(levels('revocation'), ['warn', 'warn'], dump)
    assert.match(find('revocation')[0].message, /lacks "none"/)
    assert.match(find('revocation')[1].message, /answered 401/)
    // Its metadata lists no "none" at the token endpoint and no refresh_token grant, although the
    // public client gets rotating refresh tokens (glewlwyd.spec.mjs): warnings, not failures.
    assert.ok(!md.token_endpoint_auth_methods_supported.includes('none'))
    assert.deepEqual(levels('public client'), ['warn'])
    assert.ok(!md.grant_types_supported.includes('refresh_token'))
    assert.deepEqual(levels('refresh grant'), ['warn'])
    assert.match(find('refresh grant')[0].message, /grant_types_supported lacks refresh_token/)
  })

  // Glewlwyd's CORS is one server-wide setting (allow_origin="*" here, as the spec runs it), so the
  // deliberate mistake is the redirect URI.
  it('an unregistered redirect URI: exit 1, refused, and the fix names it', () => unregisteredRedirectIsRefused(op))
})

describe('oauth-spa doctor against Better Auth 1.7', () => {
  let op
  let md
  let closed
  before(async () => {
    op = await startBetterAuth({ redirectUris: [REDIRECT], postLogoutRedirectUris: [POST_LOGOUT], trustedOrigins: [APP], corsOrigins: [APP] })
    md = await metadataOf(op)
  })
  after(async () => {
    await op?.close()
    await closed?.close()
  })

  it('the correct set-up: exit 0, and its real findings', async () => {
    const { code, findings, dump, find, levels } = await doctor(op)
    assert.equal(code, 0, dump)
    assert.deepEqual(findings.filter((f) => f.level === 'fail'), [], dump)
    for (const check of ['discovery', 'PKCE', 'token CORS', 'refresh grant', 'userinfo CORS', 'redirect URI', 'unregistered redirect URI', 'end-session']) {
      assert.deepEqual(levels(check), ['ok'], `${check}: ${dump}`)
    }
    assert.ok(md.scopes_supported.includes('offline_access'))
    assert.deepEqual(levels('offline_access'), ['ok'])
    assert.equal(md.authorization_response_iss_parameter_supported, true)
    assert.deepEqual(levels('iss'), ['ok'])
    assert.ok(md.dpop_signing_alg_values_supported.includes('ES256'))
    assert.deepEqual(levels('DPoP'), ['ok'])
    // No PAR at all.
    assert.equal(md.pushed_authorization_request_endpoint, undefined)
    assert.deepEqual(find('PAR'), [])
    // Revocation only with client authentication (metadata without "none"), refused to the public client.
    assert.ok(!md.revocation_endpoint_auth_methods_supported.includes('none'))
    assert.deepEqual(levels('revocation'), ['warn', 'warn'], dump)
    assert.match(find('revocation')[0].message, /lacks "none"/)
    assert.match(find('revocation')[1].message, /answered 4\d\d/)
  })

  it('an unregistered redirect URI: exit 1, refused, and the fix names it', () => unregisteredRedirectIsRefused(op))

  it('no CORS for the app origin (the deployer forgot it): exit 1, discovery and token CORS fail', async () => {
    closed = await startBetterAuth({ redirectUris: [REDIRECT], postLogoutRedirectUris: [POST_LOGOUT], trustedOrigins: [APP], corsOrigins: [] })
    const { code, dump, find, levels } = await doctor(closed)
    assert.equal(code, 1, dump)
    assert.deepEqual(levels('discovery CORS'), ['fail'])
    assert.deepEqual(levels('token preflight'), ['fail'])
    const [f] = find('token CORS')
    assert.equal(f.level, 'fail')
    assert.match(f.fix, new RegExp(`allow ${APP}`))
    // The redirect URI itself is fine: the failure is CORS only.
    assert.deepEqual(levels('redirect URI'), ['ok'], dump)
  })
})
