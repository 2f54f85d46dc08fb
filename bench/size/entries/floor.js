// The floor: the same four steps written directly on oauth4webapi + idb-keyval, no SDK.
// Discovery, PKCE + state + nonce, the authorization URL, validateAuthResponse, the code grant,
// tokens stored with idb-keyval, a refresh grant when the access token has expired.
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
  const params = oauth.validateAuthResponse(as, client, new URL(location.href), tx.state)
  const response = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, tx.codeVerifier)
  const result = await oauth.processAuthorizationCodeResponse(as, client, response, { expectedNonce: tx.nonce, requireIdToken: true })
  await store(result)
  history.replaceState(null, '', '/')
}

async function getAccessToken(as) {
  const tokens = await get('tokens')
  if (!tokens) return undefined
  if (tokens.expiresAt - 30_000 > Date.now()) return tokens.accessToken
  const response = await oauth.refreshTokenGrantRequest(as, client, clientAuth, tokens.refreshToken, {
    additionalParameters: { resource },
  })
  const result = await oauth.processRefreshTokenResponse(as, client, response)
  await store({ refresh_token: tokens.refreshToken, ...result })
  return result.access_token
}

async function main() {
  const as = await discover()
  if (new URL(location.href).searchParams.has('state')) await handleCallback(as)
  const token = await getAccessToken(as)
  if (token === undefined) await login(as)
  else document.body.dataset.signedIn = String(token.length > 0)
}
main()
