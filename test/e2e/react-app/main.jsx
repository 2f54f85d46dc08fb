// The React e2e page: the SDK's React entry as an app would use it, bundled by build.mjs (rollup's
// built-in JSX transform, no Babel). Served under a strict CSP (script-src 'self'), no inline script.
//
// Routes (a tiny history router, no dependency):
//   /, /logged-out   public: the header only (status, user, sign-in / sign-out button)
//   anything else    protected: <RequireAuth> around <Profile>, which calls the API through
//                    useAuth().fetch and shows the JSON. /callback is "anything else" on purpose:
//                    RequireAuth must start no second sign-in while the provider redeems the code.
//
// The whole tree is in <StrictMode>; the page is built in React's development mode (build.mjs),
// where StrictMode really runs effects twice: #strict-effects shows how many times a probe effect
// ran on the first mount (2 proves StrictMode was active).
//
// <RequireAuth> passes appState to login(); onRedirectCallback(returnTo, result) shows
// result.appState as JSON in #app-state, so the test can follow it through the real redirect.
// #id-token-aud shows the `aud` of useAuth().getIdToken()'s token (never the token itself).
//
// Data the test reads is in the DOM only (ids below), nothing on window.
import { StrictMode, useCallback, useEffect, useState } from 'react'
import { createRoot } from 'react-dom/client'
import { createOAuthClient } from 'oauth-spa'
import { AuthProvider, RequireAuth, useAuth } from 'oauth-spa/react'

const PUBLIC_PATHS = new Set(['/', '/logged-out'])

let strictEffects = 0
const redirectCallbacks = []

function Header({ returnTo, redirectCount, appState }) {
  const { status, isAuthenticated, isLoading, user, error, login, logout, getIdToken } = useAuth()
  const [idTokenAud, setIdTokenAud] = useState('')
  useEffect(() => {
    let active = true
    getIdToken().then((token) => {
      if (!active) return
      if (token === undefined) return setIdTokenAud('')
      const payload = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')))
      setIdTokenAud(String(payload.aud))
    })
    return () => { active = false }
  }, [getIdToken, status])
  const [probe, setProbe] = useState(0)
  useEffect(() => {
    strictEffects += 1
    setProbe(strictEffects)
  }, [])
  const name = user ? String(user.name ?? user.preferred_username ?? user.sub) : ''
  return (
    <header>
      <h1>oauth-spa React page</h1>
      <p>status: <output id="status">{status}</output></p>
      <p>user: <output id="user-name">{name}</output> <output id="user-sub">{user ? String(user.sub) : ''}</output></p>
      <p>returned to: <output id="return-to">{returnTo ?? ''}</output> (<output id="redirect-callbacks">{redirectCount}</output> callback deliveries)</p>
      <p>strict effects: <output id="strict-effects">{probe}</output></p>
      <p>flags: <output id="flags">{`authenticated=${isAuthenticated} loading=${isLoading}`}</output></p>
      <p>app state: <output id="app-state">{appState === undefined ? '' : JSON.stringify(appState)}</output></p>
      <p>ID token audience: <output id="id-token-aud">{idTokenAud}</output></p>
      {error ? <p id="error" role="alert">{`${error.code}: ${error.message}`}</p> : null}
      {status === 'authenticated' ? (
        <button id="sign-out" type="button" onClick={() => { logout().catch((e) => console.error('logout failed', e)) }}>Sign out</button>
      ) : null}
      {status === 'unauthenticated' ? (
        <button id="sign-in" type="button" onClick={() => { login({ returnTo: '/protected' }).catch(() => {}) }}>Sign in</button>
      ) : null}
    </header>
  )
}

function Profile({ api }) {
  const { fetch } = useAuth()
  const [me, setMe] = useState(undefined)
  useEffect(() => {
    let active = true
    fetch(`${api}/api/me`)
      .then(async (response) => ({ status: response.status, body: await response.json() }))
      .then(
        (value) => { if (active) setMe(value) },
        (error) => { if (active) setMe({ error: { name: error?.name, code: error?.code, message: error?.message } }) },
      )
    return () => { active = false }
  }, [fetch, api])
  return (
    <section id="protected">
      <h2>Protected</h2>
      <pre id="api-result">{me === undefined ? '' : JSON.stringify(me)}</pre>
    </section>
  )
}

function App({ client, api }) {
  const [path, setPath] = useState(() => window.location.pathname)
  const [returnTo, setReturnTo] = useState(undefined)
  const [redirectCount, setRedirectCount] = useState(0)
  const [appState, setAppState] = useState(undefined)

  useEffect(() => {
    const onPop = () => setPath(window.location.pathname)
    window.addEventListener('popstate', onPop)
    return () => window.removeEventListener('popstate', onPop)
  }, [])

  const onRedirectCallback = useCallback((to, result) => {
    redirectCallbacks.push(to)
    setAppState(result?.appState)
    window.history.replaceState(null, '', to)
    setPath(window.location.pathname)
    setReturnTo(to)
    setRedirectCount(redirectCallbacks.length)
  }, [])

  return (
    <AuthProvider client={client} onRedirectCallback={onRedirectCallback}>
      <Header returnTo={returnTo} redirectCount={redirectCount} appState={appState} />
      <p>path: <output id="path">{path}</output></p>
      {PUBLIC_PATHS.has(path) ? (
        <p id="public">Public page.</p>
      ) : (
        <RequireAuth fallback={<p id="fallback">Signing you in…</p>} loginOptions={{ appState: { via: 'RequireAuth', startedAt: path, note: 'Draft «Q3»' } }}>
          <Profile api={api} />
        </RequireAuth>
      )}
    </AuthProvider>
  )
}

async function main() {
  const root = createRoot(document.getElementById('root'))
  let config
  try {
    const response = await fetch('/app-config.json', { cache: 'no-store' })
    if (!response.ok) throw new Error(`/app-config.json: HTTP ${response.status}`)
    config = await response.json()
  } catch (error) {
    root.render(<p id="boot-error">{String(error?.message ?? error)}</p>)
    throw error
  }
  const client = createOAuthClient(config)
  const api = config.apiOrigins[0]
  root.render(
    <StrictMode>
      <App client={client} api={api} />
    </StrictMode>,
  )
}

main().catch((error) => console.error('React e2e page failed to start', error))
