// @okta/okta-auth-js: OktaAuth, signInWithRedirect, handleLoginRedirect, getOrRenewAccessToken.
import { OktaAuth } from '@okta/okta-auth-js'

const oktaAuth = new OktaAuth({
  issuer: 'https://auth.example.com',
  clientId: 'my-spa',
  redirectUri: `${location.origin}/callback`,
  scopes: ['openid', 'profile', 'email', 'offline_access'],
  pkce: true,
})

async function main() {
  if (oktaAuth.isLoginRedirect()) await oktaAuth.handleLoginRedirect()
  const token = await oktaAuth.getOrRenewAccessToken()
  if (!token) await oktaAuth.signInWithRedirect()
  else document.body.dataset.signedIn = String(token.length > 0)
}
main()
