// oidc-client-ts: UserManager (authorization code + PKCE, refresh token via signinSilent when expired).
import { UserManager } from 'oidc-client-ts'

const userManager = new UserManager({
  authority: 'https://auth.example.com',
  client_id: 'my-spa',
  redirect_uri: `${location.origin}/callback`,
  scope: 'openid profile email offline_access',
  resource: 'https://api.example.com',
})

async function main() {
  if (new URL(location.href).searchParams.has('state')) {
    await userManager.signinRedirectCallback()
    history.replaceState(null, '', '/')
  }
  let user = await userManager.getUser()
  if (user && user.expired) user = await userManager.signinSilent()
  if (!user) await userManager.signinRedirect()
  else document.body.dataset.signedIn = String(user.access_token.length > 0)
}
main()
