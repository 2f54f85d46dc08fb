// @auth0/auth0-spa-js through its public API: createAuth0Client, loginWithRedirect,
// handleRedirectCallback, getTokenSilently with useRefreshTokens (rotation).
// Storage: cacheLocation 'localstorage' (its default, 'memory', loses the refresh token on a reload
// and in other tabs, where it then needs the iframe fallback, which is off by default).
import { createAuth0Client } from '/vendor/auth0-spa-js.production.esm.js'
import { config, expose } from '/peers/common.js'

const auth0 = await createAuth0Client({
  ...config.auth0SpaJs,
  cacheLocation: 'localstorage',
  useRefreshTokens: true,
  authorizationParams: { ...config.auth0SpaJs.authorizationParams, redirect_uri: `${location.origin}/peers/auth0-spa-js.html` },
})

expose({
  name: 'auth0-spa-js',
  async start() {
    if (new URL(location.href).searchParams.has('code')) {
      await auth0.handleRedirectCallback()
      history.replaceState(null, '', location.pathname)
    }
    return auth0.isAuthenticated()
  },
  login: () => auth0.loginWithRedirect(),
  getAccessToken: () => auth0.getTokenSilently(),
  user: () => auth0.getUser(),
})
