#!/usr/bin/env node
// `oauth-spa doctor`: checks a provider's configuration for a single-page app without signing in.
//
//   npx oauth-spa doctor --issuer URL --client-id ID --origin https://app.example.com [--redirect-uri URI]
//                        [--issuer-template URL] [--dpop] [--json] [--timeout SECONDS]
//
// Every finding says what to change at the provider. The exit code is 1 when a finding would break
// sign-in (a `fail`), 2 on a usage error, 0 otherwise. Discovery goes through oauth4webapi, as in the
// SDK; the other probes are plain requests that a browser on `--origin` would make (CORS included),
// with bogus tokens only: nothing is signed in, nothing is granted.
import { pathToFileURL } from 'node:url'

import * as oauth from 'oauth4webapi'

const USAGE = `usage: oauth-spa doctor --issuer URL --client-id ID --origin ORIGIN [--redirect-uri URI]
                        [--issuer-template URL] [--dpop] [--json] [--timeout SECONDS]`
/** A redirect URI no one registers: the authorization endpoint must refuse it without redirecting. */
const UNREGISTERED_PATH = '/oauth-spa-doctor-unregistered-redirect'
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM' // RFC 7636 appendix B

/** Parses argv into options; throws a usage error (a string) when something is missing or wrong. */
export function parseArgs(argv) {
  const o = { json: false, dpop: false, timeout: 10 }
  const take = (i) => {
    if (argv[i + 1] === undefined || argv[i + 1].startsWith('--')) throw `${argv[i]} needs a value`
    return argv[i + 1]
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === 'doctor' && i === 0) continue
    if (a === '--json') o.json = true
    else if (a === '--dpop') o.dpop = true
    else if (a === '--issuer') o.issuer = take(i++)
    else if (a === '--client-id') o.clientId = take(i++)
    else if (a === '--origin') o.origin = take(i++)
    else if (a === '--redirect-uri') o.redirectUri = take(i++)
    else if (a === '--issuer-template') o.issuerTemplate = take(i++)
    else if (a === '--timeout') o.timeout = Number(take(i++))
    else if (a === '--help' || a === '-h') throw 'help'
    else throw `unknown argument ${a}`
  }
  for (const k of ['issuer', 'clientId', 'origin']) if (!o[k]) throw `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} is required`
  let origin
  try {
    origin = new URL(o.origin)
    new URL(o.issuer)
    if (o.redirectUri) new URL(o.redirectUri)
  } catch {
    throw '--issuer, --origin and --redirect-uri must be absolute URLs'
  }
  if (origin.origin !== o.origin.replace(/\/$/, '')) throw '--origin must be a bare origin like https://app.example.com'
  o.origin = origin.origin
  if (!(o.timeout > 0)) throw '--timeout must be a number of seconds above 0'
  return o
}

/** Runs every check; returns the findings: { level: 'ok'|'info'|'warn'|'fail', check, message, fix? }. */
export async function diagnose(o) {
  const findings = []
  const add = (level, check, message, fix) => findings.push({ level, check, message, ...(fix ? { fix } : {}) })
  const insecure = new URL(o.issuer).protocol === 'http:'
  const signal = () => AbortSignal.timeout(o.timeout * 1000)
  const send = (url, init = {}) => fetch(url, { redirect: 'manual', signal: signal(), ...init, headers: { Origin: o.origin, ...init.headers } })
  const acao = (res) => res.headers.get('access-control-allow-origin')
  const corsOk = (res) => acao(res) === o.origin || acao(res) === '*'

  // Discovery and its issuer (oauth4webapi, exactly as the SDK does it).
  let as
  const expected = new URL(o.issuerTemplate ?? o.issuer)
  try {
    const opts = { signal: signal(), headers: new Headers({ Origin: o.origin }), ...(insecure ? { [oauth.allowInsecureRequests]: true } : {}) }
    let res = await oauth.discoveryRequest(new URL(o.issuer), { ...opts, algorithm: 'oidc' })
    if (res.status === 404) res = await oauth.discoveryRequest(new URL(o.issuer), { ...opts, algorithm: 'oauth2' })
    const cors = corsOk(res)
    as = await oauth.processDiscoveryResponse(expected, res)
    add('ok', 'discovery', `metadata found; issuer ${as.issuer}`)
    if (!cors) add('fail', 'discovery CORS', `the discovery response has no Access-Control-Allow-Origin for ${o.origin}: the SDK cannot read it from the page`, `allow ${o.origin} as a CORS origin (web origin) for this client/realm`)
  } catch (e) {
    const mismatch = e?.code === oauth.JSON_ATTRIBUTE_COMPARISON
    add('fail', 'discovery', mismatch ? `the document's issuer is ${e.cause?.body?.issuer ?? 'different'}, not ${expected.href}` : `no usable discovery document at ${o.issuer}: ${e?.message ?? e}`,
      mismatch ? 'use the issuer exactly as the provider names it (trailing slash included); for Entra ID multi-tenant pass --issuer-template' : 'check the issuer URL (it is the URL before /.well-known/openid-configuration)')
    return findings
  }

  const methods = as.code_challenge_methods_supported
  if (Array.isArray(methods) && methods.includes('S256')) add('ok', 'PKCE', 'S256 is supported')
  else if (Array.isArray(methods)) add('fail', 'PKCE', `code_challenge_methods_supported is [${methods.join(', ')}]: no S256; the SDK never uses plain PKCE`, 'enable PKCE with S256 for this client')
  else add('warn', 'PKCE', 'the metadata does not say whether S256 is supported (code_challenge_methods_supported is missing)', 'enable PKCE (S256) for this client and publish code_challenge_methods_supported')
  if (Array.isArray(as.response_types_supported) && !as.response_types_supported.includes('code')) add('fail', 'response type', 'response_types_supported lacks "code"', 'enable the authorization code flow')
  const algs = as.id_token_signing_alg_values_supported
  if (Array.isArray(algs) && !algs.some((a) => /^(RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$/.test(a))) add('fail', 'ID token signature', `id_token_signing_alg_values_supported is [${algs.join(', ')}]: no asymmetric algorithm a public client can verify`, 'sign ID tokens with RS256 or ES256')
  const authMethods = as.token_endpoint_auth_methods_supported
  if (Array.isArray(authMethods) && !authMethods.includes('none')) add('warn', 'public client', `token_endpoint_auth_methods_supported is [${authMethods.join(', ')}]: the provider may not accept public clients (no secret)`, 'register the app as a public client / single-page application (token endpoint authentication: none)')

  // Token endpoint: CORS preflight, then a refresh grant with a bogus token (also shows whether the grant is allowed).
  await corsPreflight(send, as.token_endpoint, 'token', ['content-type', ...(o.dpop ? ['dpop'] : [])], add, o.origin, true)
  try {
    const res = await send(as.token_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'oauth-spa-doctor-bogus', client_id: o.clientId }) })
    const body = await res.json().catch(() => ({}))
    if (!corsOk(res)) add('fail', 'token CORS', `the token endpoint answers ${o.origin} without Access-Control-Allow-Origin${body.error_description ? ` (${body.error_description})` : ''}: the browser hides every token response`, `allow ${o.origin} as an allowed origin (CORS / web origin) of client ${o.clientId}`)
    else add('ok', 'token CORS', `the token endpoint answers ${o.origin} with CORS headers`)
    if (body.error === 'invalid_grant') add('ok', 'refresh grant', 'the refresh_token grant is allowed for this client (a bogus token got invalid_grant)')
    // RFC 6749 §5.2 says unauthorized_client; some providers (oidc-provider) say invalid_request "grant type is not allowed".
    else if (body.error === 'unauthorized_client' || body.error === 'unsupported_grant_type' || (body.error === 'invalid_request' && /grant.?type/i.test(body.error_description ?? ''))) {
      add('warn', 'refresh grant', `the refresh_token grant is refused for this client (${body.error}${body.error_description ? `: ${body.error_description}` : ''}): no refresh tokens, the session ends when the access token expires`, 'allow the Refresh Token grant type for this client (and enable rotation for public clients)')
    }
    else if (body.error === 'invalid_client') add('fail', 'client', `the token endpoint refuses client ${o.clientId} without a secret (invalid_client)`, 'register a public client (single-page application, no client secret); a page cannot keep a secret')
    else if (body.error) add('info', 'refresh grant', `a bogus refresh token got ${res.status} ${body.error}`)
  } catch (e) {
    add('fail', 'token endpoint', `no answer from ${as.token_endpoint}: ${e?.message ?? e}`, 'check the token endpoint is reachable from browsers')
  }
  if (Array.isArray(as.grant_types_supported) && !as.grant_types_supported.includes('refresh_token')) add('warn', 'refresh grant', 'grant_types_supported lacks refresh_token', 'enable refresh tokens')
  if (Array.isArray(as.grant_types_supported) && !as.grant_types_supported.includes('authorization_code')) add('fail', 'code grant', 'grant_types_supported lacks authorization_code', 'enable the authorization code grant')

  // Revocation and userinfo: CORS for the origin (the SDK calls both from the page).
  if (typeof as.revocation_endpoint === 'string') {
    const rm = as.revocation_endpoint_auth_methods_supported
    if (Array.isArray(rm) && !rm.includes('none')) add('warn', 'revocation', 'revocation_endpoint_auth_methods_supported lacks "none": public clients cannot revoke; logout only forgets the refresh token', 'let public clients revoke their own tokens')
    await corsPreflight(send, as.revocation_endpoint, 'revocation', ['content-type'], add, o.origin, false)
    try {
      const res = await send(as.revocation_endpoint, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token: 'oauth-spa-doctor-bogus', token_type_hint: 'refresh_token', client_id: o.clientId }) })
      if (!corsOk(res)) add('warn', 'revocation CORS', `the revocation endpoint answers ${o.origin} without Access-Control-Allow-Origin: logout cannot revoke`, `allow ${o.origin} for CORS at the revocation endpoint`)
      else if (res.status === 200) add('ok', 'revocation', 'the revocation endpoint accepts this public client (RFC 7009: 200 for an unknown token)')
      else add('warn', 'revocation', `the revocation endpoint answered ${res.status} to this public client`, 'let public clients revoke their own tokens (token endpoint authentication: none)')
    } catch (e) {
      add('warn', 'revocation', `no answer from ${as.revocation_endpoint}: ${e?.message ?? e}`)
    }
  } else add('info', 'revocation', 'no revocation_endpoint: logout forgets the refresh token without revoking it')
  if (typeof as.userinfo_endpoint === 'string') {
    await corsPreflight(send, as.userinfo_endpoint, 'userinfo', ['authorization'], add, o.origin, false, 'GET')
    try {
      const res = await send(as.userinfo_endpoint, { headers: { Authorization: 'Bearer oauth-spa-doctor-bogus' } })
      if (corsOk(res)) add('ok', 'userinfo CORS', `the userinfo endpoint answers ${o.origin} with CORS headers`)
      else add('warn', 'userinfo CORS', `the userinfo endpoint answers ${o.origin} without Access-Control-Allow-Origin`, `allow ${o.origin} for CORS at the userinfo endpoint`)
    } catch (e) {
      add('warn', 'userinfo', `no answer from ${as.userinfo_endpoint}: ${e?.message ?? e}`)
    }
  }

  // The authorization endpoint's answer to the client id and the redirect URIs.
  if (o.redirectUri) await probeAuthorization(send, as, o, o.redirectUri, true, add)
  else add('info', 'redirect URI', 'pass --redirect-uri to check that the provider accepts it for this client')
  await probeAuthorization(send, as, o, `${o.origin}${UNREGISTERED_PATH}`, false, add)

  if (as.authorization_response_iss_parameter_supported === true) add('ok', 'iss', 'authorization responses carry iss (RFC 9207): mix-up defence')
  else add('info', 'iss', 'no RFC 9207 iss in authorization responses: give each provider its own redirect URI')
  const dpopAlgs = as.dpop_signing_alg_values_supported
  if (Array.isArray(dpopAlgs)) add(dpopAlgs.includes('ES256') ? 'ok' : 'warn', 'DPoP', `dpop_signing_alg_values_supported: [${dpopAlgs.join(', ')}]${dpopAlgs.includes('ES256') ? '' : ' — the SDK signs proofs with ES256'}`)
  else add(o.dpop ? 'fail' : 'info', 'DPoP', 'no DPoP (dpop_signing_alg_values_supported is missing)', o.dpop ? 'enable DPoP or set dpop: false' : undefined)
  if (typeof as.end_session_endpoint === 'string') add('ok', 'end-session', `end_session_endpoint ${as.end_session_endpoint}`)
  else add('warn', 'end-session', 'no end_session_endpoint: logout() ends the session here only', 'if the provider has a logout URL outside discovery (Auth0 /v2/logout, Cognito /logout), set it with the `metadata` and `endSession` options (docs/providers/)')
  const scopes = as.scopes_supported
  if (Array.isArray(scopes) && scopes.includes('offline_access')) add('ok', 'offline_access', 'offline_access is a supported scope; providers that follow OIDC Core §11 also need prompt=consent (offlineAccessConsent: true)')
  else if (Array.isArray(scopes)) add('info', 'offline_access', 'scopes_supported lacks offline_access: the default scope leaves it out; refresh tokens depend on the provider\'s own rule (docs/providers/)')
  if (as.require_pushed_authorization_requests === true) add('info', 'PAR', 'the provider requires pushed authorization requests: the SDK uses PAR')
  return findings
}

async function corsPreflight(send, url, name, headers, add, origin, fatal, method = 'POST') {
  try {
    const res = await send(url, { method: 'OPTIONS', headers: { 'Access-Control-Request-Method': method, 'Access-Control-Request-Headers': headers.join(',') } })
    const allowed = res.headers.get('access-control-allow-origin')
    const allowHeaders = (res.headers.get('access-control-allow-headers') ?? '').toLowerCase()
    const missing = headers.filter((h) => !allowHeaders.includes(h) && allowHeaders !== '*')
    if (res.status >= 400 || (allowed !== origin && allowed !== '*')) {
      add(fatal ? 'fail' : 'warn', `${name} preflight`, `the CORS preflight to the ${name} endpoint is not allowed for ${origin} (status ${res.status})`, `allow ${origin} for CORS at the ${name} endpoint`)
    } else if (missing.length) {
      add(fatal ? 'fail' : 'warn', `${name} preflight`, `the preflight does not allow the request headers ${missing.join(', ')}`, `allow the headers ${missing.join(', ')} in CORS at the ${name} endpoint`)
    }
  } catch (e) {
    add(fatal ? 'fail' : 'warn', `${name} preflight`, `no answer to the CORS preflight at ${url}: ${e?.message ?? e}`)
  }
}

/** A front-channel probe: does the authorization endpoint accept (registered) or refuse (unregistered) this redirect URI? */
async function probeAuthorization(send, as, o, redirectUri, registered, add) {
  const url = new URL(as.authorization_endpoint)
  for (const [k, v] of Object.entries({ client_id: o.clientId, redirect_uri: redirectUri, response_type: 'code', scope: 'openid', state: 'oauth-spa-doctor', code_challenge: CHALLENGE, code_challenge_method: 'S256' })) url.searchParams.set(k, v)
  let res
  try {
    res = await send(url)
  } catch (e) {
    add('fail', 'authorization endpoint', `no answer from ${as.authorization_endpoint}: ${e?.message ?? e}`)
    return
  }
  const text = res.headers.get('location') ? '' : await res.text().catch(() => '')
  // Better Auth answers a request it takes for a page's fetch (Node's fetch always sends
  // Sec-Fetch-Mode: cors) with 200 {"redirect":true,"url":…} instead of a 302: the same answer.
  const jsonRedirect = (() => {
    try {
      const body = JSON.parse(text)
      return body?.redirect === true && typeof body.url === 'string' ? body.url : undefined
    } catch {
      return undefined
    }
  })()
  const location = res.headers.get('location') ?? jsonRedirect
  const target = location ? new URL(location, url) : undefined
  const toRedirect = target && target.origin + target.pathname === new URL(redirectUri).origin + new URL(redirectUri).pathname
  const error = toRedirect ? target.searchParams.get('error') : (target ? target.search : text).match(/invalid_redirect_uri|invalid_redirect|redirect_uri_mismatch|invalid_client|unauthorized_client|invalid_request/)?.[0]
  const redirected = (res.status >= 300 && res.status < 400) || jsonRedirect !== undefined
  if (!registered) {
    if (toRedirect) add('fail', 'unregistered redirect URI', `the provider redirected to ${redirectUri}, which no one registered: it is an open redirector for this client`, 'register exact redirect URIs only (no wildcards or prefixes)')
    else if (res.status >= 400 && /invalid_client|unauthorized_client/.test(error ?? '')) add('fail', 'client', `the authorization endpoint does not know client ${o.clientId} (${error})`, 'check the client id')
    else add('ok', 'unregistered redirect URI', `an unregistered redirect URI is refused (status ${res.status})`)
    return
  }
  if (redirected && !(toRedirect && error) && !(target && /^invalid_redirect|^redirect_uri_mismatch/.test(error ?? ''))) add('ok', 'redirect URI', `the provider accepts ${redirectUri} for client ${o.clientId}`)
  else if (toRedirect && error) add(['invalid_scope', 'login_required', 'interaction_required'].includes(error) ? 'warn' : 'fail', 'redirect URI', `the provider sent ${redirectUri} an error: ${error}`, 'check the client\'s allowed grant types, response types and scopes')
  else add('fail', 'redirect URI', `the provider refuses ${redirectUri} for client ${o.clientId} (status ${res.status}${error ? `, ${error}` : ''})`, `register ${redirectUri} exactly as a redirect URI of client ${o.clientId} (for Entra ID: under "Single-page application")`)
}

const MARK = { ok: '✔', info: 'i', warn: '!', fail: '✘' }

/** Formats findings for a terminal. */
export function format(findings) {
  return findings.map((f) => `${MARK[f.level]} ${f.check}: ${f.message}${f.fix ? `\n    → ${f.fix}` : ''}`).join('\n')
}

/**
 * The `doctor` command. `argv`: the arguments after `doctor` (a leading `doctor` is skipped).
 * Resolves with the exit code: 1 when a finding would break sign-in, 2 on a usage error.
 */
export async function run(argv, out = process.stdout, err = process.stderr) {
  let options
  try {
    options = parseArgs(argv)
  } catch (e) {
    if (typeof e !== 'string') throw e
    ;(e === 'help' ? out : err).write(`${e === 'help' ? '' : `oauth-spa doctor: ${e}\n`}${USAGE}\n`)
    return e === 'help' ? 0 : 2
  }
  const findings = await diagnose(options)
  const failed = findings.filter((f) => f.level === 'fail').length
  out.write(options.json ? `${JSON.stringify({ findings, failed }, null, 2)}\n` : `${format(findings)}\n\n${failed ? `${failed} finding(s) would break sign-in.` : 'Nothing found that would break sign-in.'}\n`)
  return failed ? 1 : 0
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  run(process.argv.slice(2)).then((code) => (process.exitCode = code))
}
