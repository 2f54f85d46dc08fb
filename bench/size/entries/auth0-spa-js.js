// @auth0/auth0-spa-js: createAuth0Client, loginWithRedirect, handleRedirectCallback, getTokenSilently.
import { createAuth0Client } from '@auth0/auth0-spa-js'

async function main() {
  const auth0 = await createAuth0Client({
    domain: 'auth.example.com',
    clientId: 'my-spa',
    cacheLocation: 'localstorage',
    useRefreshTokens: true,
    authorizationParams: { redirect_uri: `${location.origin}/callback`, audience: 'https://api.example.com' },
  })
  if (new URL(location.href).searchParams.has('state')) {
    await auth0.handleRedirectCallback()
    history.replaceState(null, '', '/')
  }
  try {
    const token = await auth0.getTokenSilently()
    document.body.dataset.signedIn = String(token.length > 0)
  } catch (e) {
    if (e.error === 'login_required' || e.error === 'missing_refresh_token') await auth0.loginWithRedirect()
    else throw e
  }
}
main()
