// oidc-client-ts through its public API: UserManager, code + PKCE, refresh token (offline_access).
// Storage: localStorage for the user (its default is sessionStorage, which a second tab does not
// share, so the tabs figure would not exist); automaticSilentRenew off, so that a token past its
// expiry is renewed on demand by the app (getUser → expired → signinSilent, which uses the refresh
// token), the documented pattern when an app asks for a token.
import { config, expose } from '/peers/common.js'

const { UserManager, WebStorageStateStore } = window.oidc
const userManager = new UserManager({
  ...config.oidcClientTs,
  redirect_uri: `${location.origin}/peers/oidc-client-ts.html`,
  userStore: new WebStorageStateStore({ store: window.localStorage }),
  automaticSilentRenew: false,
})

expose({
  name: 'oidc-client-ts',
  async start() {
    if (new URL(location.href).searchParams.has('code')) {
      await userManager.signinRedirectCallback()
      history.replaceState(null, '', location.pathname)
    }
    return (await userManager.getUser()) !== null
  },
  login: () => userManager.signinRedirect(),
  async getAccessToken() {
    let user = await userManager.getUser()
    if (user?.expired) user = await userManager.signinSilent()
    if (!user) throw Object.assign(new Error('login required'), { code: 'login_required' })
    return user.access_token
  },
  user: async () => (await userManager.getUser())?.profile,
})
