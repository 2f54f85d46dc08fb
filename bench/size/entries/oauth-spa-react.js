// oauth-spa with its React entry: createOAuthClient + <AuthProvider> + useAuth(). react, react-dom and
// react/jsx-runtime are external (the app ships React anyway); what is left is the core plus the React glue.
import { createElement } from 'react'
import { createRoot } from 'react-dom/client'
import { createOAuthClient } from '../../../dist/index.js'
import { AuthProvider, useAuth } from '../../../dist/react.js'

const auth = createOAuthClient({
  issuer: 'https://auth.example.com',
  clientId: 'my-spa',
  redirectUri: `${location.origin}/callback`,
  resource: 'https://api.example.com',
  apiOrigins: ['https://api.example.com'],
})

function App() {
  const { status, user, login, getAccessToken } = useAuth()
  if (status === 'loading') return null
  if (status === 'unauthenticated') return createElement('button', { onClick: () => login() }, 'Sign in')
  return createElement('button', { onClick: () => getAccessToken().then((t) => console.log(t.length)) }, `Hello ${user?.name}`)
}

createRoot(document.getElementById('root')).render(createElement(AuthProvider, { client: auth }, createElement(App)))
