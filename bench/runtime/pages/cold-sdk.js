// Cold start with a persisted session: until the client's snapshot says `authenticated`.
// performance.now() counts from the navigation start of this page.
import { createOAuthClient } from '/dist/oauth-spa.standalone.min.js'
import config from '/bench-config.js'

const scriptStart = performance.now()
const auth = createOAuthClient(config.client)
const check = () => {
  const { status } = auth.getSnapshot()
  if (window.__cold !== undefined || status === 'loading') return
  window.__cold = { scriptStart, done: performance.now(), status }
}
auth.subscribe(check)
check()
