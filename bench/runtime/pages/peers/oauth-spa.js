// oauth-spa, as an app uses it: tokens in IndexedDB (its default), refresh tokens with rotation.
import { createOAuthClient } from '/dist/oauth-spa.standalone.min.js'
import { config, expose } from '/peers/common.js'

const auth = createOAuthClient({ ...config.oauthSpa, redirectUri: `${location.origin}/peers/oauth-spa.html` })

expose({
  name: 'oauth-spa',
  async start() {
    if (auth.isRedirectCallback()) {
      await auth.handleRedirectCallback()
      history.replaceState(null, '', location.pathname)
    }
    if (auth.getSnapshot().status === 'loading') {
      await new Promise((resolve) => {
        const off = auth.subscribe(() => {
          if (auth.getSnapshot().status !== 'loading') {
            off()
            resolve()
          }
        })
      })
    }
    return auth.getSnapshot().status === 'authenticated'
  },
  login: () => auth.login({ returnTo: '/peers/oauth-spa.html' }),
  getAccessToken: () => auth.getAccessToken(),
  user: async () => auth.getSnapshot().user,
})
