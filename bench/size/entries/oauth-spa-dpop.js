// oauth-spa: the four steps (create the client, start login, handle the callback, get an access token).
// The same app with dpop: true (the DPoP code is loaded at start: the first request needs a proof).
import { createOAuthClient } from '../../../dist/index.js'

const auth = createOAuthClient({
  issuer: 'https://auth.example.com',
  clientId: 'my-spa',
  redirectUri: `${location.origin}/callback`,
  resource: 'https://api.example.com',
  apiOrigins: ['https://api.example.com'],
  dpop: true,
})

async function main() {
  if (auth.isRedirectCallback()) {
    const { returnTo } = await auth.handleRedirectCallback()
    history.replaceState(null, '', returnTo)
  }
  try {
    const token = await auth.getAccessToken()
    document.body.dataset.signedIn = String(token.length > 0)
  } catch (e) {
    if (e.code === 'login_required') await auth.login()
    else throw e
  }
}
main()
