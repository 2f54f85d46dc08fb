// @azure/msal-browser: PublicClientApplication, loginRedirect, handleRedirectPromise, acquireTokenSilent.
import { PublicClientApplication, InteractionRequiredAuthError } from '@azure/msal-browser'

const pca = new PublicClientApplication({
  auth: {
    clientId: 'my-spa',
    authority: 'https://auth.example.com',
    knownAuthorities: ['auth.example.com'],
    protocolMode: 'OIDC',
    redirectUri: `${location.origin}/callback`,
  },
  cache: { cacheLocation: 'localStorage' },
})
const scopes = ['openid', 'profile', 'email', 'offline_access', 'https://api.example.com/api:read']

async function main() {
  await pca.initialize()
  const result = await pca.handleRedirectPromise()
  if (result?.account) pca.setActiveAccount(result.account)
  const account = pca.getActiveAccount() ?? pca.getAllAccounts()[0]
  if (!account) return pca.loginRedirect({ scopes })
  try {
    const { accessToken } = await pca.acquireTokenSilent({ scopes, account })
    document.body.dataset.signedIn = String(accessToken.length > 0)
  } catch (e) {
    if (e instanceof InteractionRequiredAuthError) await pca.loginRedirect({ scopes })
    else throw e
  }
}
main()
