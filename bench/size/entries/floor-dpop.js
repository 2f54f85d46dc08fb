// The floor with DPoP: the floor's four steps, with the DPoP parts the budget says must be included,
// written directly on oauth4webapi + idb-keyval, no SDK. A non-extractable ES256 key kept in
// idb-keyval, `dpop_jkt` on the authorization request, DPoP proofs on the code and refresh grants
// with one retry on a nonce demand, and one DPoP-bound API call. No cross-tab coordination, no
// validation of options, no typed errors: the least any DPoP-capable SDK built on them can ship.
import * as oauth from 'oauth4webapi'
import { get, set, del } from 'idb-keyval'

const issuer = new URL('https://auth.example.com')
const client = { client_id: 'my-spa' }
const clientAuth = oauth.None()
const redirectUri = `${location.origin}/callback`
const resource = 'https://api.example.com'

async function discover() {
  const response = await oauth.discoveryRequest(issuer, { algorithm: 'oidc' })
  return oauth.processDiscoveryResponse(issuer, response)
}

async function dpopKeys() {
  let keyPair = await get('dpop')
  if (!keyPair) {
    keyPair = await oauth.generateKeyPair('ES256', { extractable: false })
    await set('dpop', keyPair)
  }
  return keyPair
}

async function withNonceRetry(request) {
  try {
    return await request()
  } catch (e) {
    if (oauth.isDPoPNonceError(e)) return request()
    throw e
  }
}

async function login(as) {
  const codeVerifier = oauth.generateRandomCodeVerifier()
  const state = oauth.generateRandomState()
  const nonce = oauth.generateRandomNonce()
  await set('tx', { codeVerifier, state, nonce })
  const url = new URL(as.authorization_endpoint)
  url.searchParams.set('client_id', client.client_id)
  url.searchParams.set('redirect_uri', redirectUri)
  url.searchParams.set('response_type', 'code')
  url.searchParams.set('scope', 'openid profile email offline_access')
  url.searchParams.set('resource', resource)
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(codeVerifier))
  url.searchParams.set('code_challenge_method', 'S256')
  url.searchParams.set('state', state)
  url.searchParams.set('nonce', nonce)
  url.searchParams.set('dpop_jkt', await oauth.calculateJwkThumbprint((await dpopKeys()).publicKey))
  location.assign(url.href)
}

function store(result) {
  return set('tokens', {
    accessToken: result.access_token,
    refreshToken: result.refresh_token,
    expiresAt: Date.now() + (result.expires_in ?? 0) * 1000,
  })
}

async function handleCallback(as) {
  const tx = await get('tx')
  await del('tx')
  const DPoP = oauth.DPoP(client, await dpopKeys())
  const params = oauth.validateAuthResponse(as, client, new URL(location.href), tx.state)
  const result = await withNonceRetry(async () => {
    const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, tx.codeVerifier, { DPoP })
    return oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: tx.nonce, requireIdToken: true })
  })
  await store(result)
  history.replaceState(null, '', '/')
}

async function getAccessToken(as) {
  const tokens = await get('tokens')
  if (!tokens) return undefined
  if (tokens.expiresAt - 30_000 > Date.now()) return tokens.accessToken
  const DPoP = oauth.DPoP(client, await dpopKeys())
  const result = await withNonceRetry(async () => {
    const response = await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refreshToken, {
      additionalParameters: { resource },
      DPoP,
    })
    return oauth.processRefreshTokenResponse(as, client, response)
  })
  await store({ refresh_token: tokens.refreshToken, ...result })
  return result.access_token
}

async function main() {
  const as = await discover()
  if (new URL(location.href).searchParams.has('state')) await handleCallback(as)
  const token = await getAccessToken(as)
  if (token === undefined) return login(as)
  const DPoP = oauth.DPoP(client, await dpopKeys())
  const response = await withNonceRetry(() => oauth.protectedResourceRequest(token, 'GET', new URL(`${resource}/me`), new Headers(), null, { DPoP }))
  document.body.dataset.signedIn = String(response.ok)
}
main()
