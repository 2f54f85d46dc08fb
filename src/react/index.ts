/**
 * oauth-spa's React entry, `oauth-spa/react`: {@link AuthProvider}, {@link useAuth},
 * {@link RequireAuth} and {@link withAuthRequired}. Re-exports only.
 *
 * @example
 * ```tsx
 * import { createOAuthClient } from 'oauth-spa'
 * import { AuthProvider, RequireAuth, useAuth } from 'oauth-spa/react'
 *
 * const auth = createOAuthClient({ issuer, clientId, redirectUri })
 *
 * function App() {
 *   const { user, logout } = useAuth()
 *   return <button onClick={() => logout()}>Sign out {user?.sub}</button>
 * }
 *
 * root.render(
 *   <AuthProvider client={auth}>
 *     <RequireAuth fallback={<p>Loading…</p>}><App /></RequireAuth>
 *   </AuthProvider>,
 * )
 * ```
 *
 * @module oauth-spa/react
 */
export { AuthProvider } from './AuthProvider.js'
export type { AuthProviderBaseProps, AuthProviderClientProps, AuthProviderOptionsProps, AuthProviderProps } from './AuthProvider.js'
export type { AuthState } from './context.js'
export { useAuth, useAuthClient } from './useAuth.js'
export { RequireAuth, withAuthRequired } from './RequireAuth.js'
export type { RequireAuthProps, WithAuthRequiredOptions } from './RequireAuth.js'
