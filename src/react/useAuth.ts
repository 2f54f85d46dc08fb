/**
 * `useAuth()` and `useAuthClient()`.
 *
 * @module
 */
import { useContext } from 'react'
import type { OAuthClient } from '../types.js'
import { AuthContext } from './context.js'
import type { AuthContextValue, AuthState } from './context.js'

const OUTSIDE_PROVIDER =
  'must be used inside <AuthProvider client={auth}>. Wrap your app in it, e.g. ' +
  "root.render(<AuthProvider client={auth}><App /></AuthProvider>), and check that 'oauth-spa/react' " +
  'is not bundled twice (two copies of the module have two separate contexts).'

/** @internal The provider's context, or a helpful error naming `hook` outside of it. */
export function useAuthContext(hook: string): AuthContextValue {
  const value = useContext(AuthContext)
  if (value === null) throw new Error(`${hook} ${OUTSIDE_PROVIDER}`)
  return value
}

/**
 * The signed-in state and the client's methods, re-rendering on every change (also from other
 * tabs). `login`, `logout`, `getAccessToken` and `fetch` keep their identity across renders.
 * Throws an `Error` when used outside {@link AuthProvider}.
 *
 * @example
 * ```tsx
 * function Profile() {
 *   const { status, user, fetch, login } = useAuth()
 *   const [orders, setOrders] = useState<unknown>()
 *   useEffect(() => {
 *     if (status === 'authenticated') void fetch('https://api.example.com/orders').then((r) => r.json()).then(setOrders)
 *   }, [status, fetch])
 *   if (status === 'unauthenticated') return <button onClick={() => login()}>Sign in</button>
 *   return <pre>{JSON.stringify({ user, orders }, null, 2)}</pre>
 * }
 * ```
 */
export function useAuth(): AuthState {
  return useAuthContext('useAuth()').auth
}

/**
 * The {@link OAuthClient} given to the enclosing {@link AuthProvider}, e.g. to listen to its
 * events. Throws an `Error` when used outside {@link AuthProvider}.
 *
 * @example
 * ```tsx
 * const client = useAuthClient()
 * useEffect(() => client.on('session_expired', () => toast('Please sign in again')), [client])
 * ```
 */
export function useAuthClient(): OAuthClient {
  return useAuthContext('useAuthClient()').client
}
