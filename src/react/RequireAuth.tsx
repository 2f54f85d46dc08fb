/**
 * `<RequireAuth>` and `withAuthRequired()`: render only for signed-in users, start a sign-in for
 * the others.
 *
 * @module
 */
import { useEffect, useRef } from 'react'
import type { ComponentType, ReactElement, ReactNode } from 'react'
import type { LoginOptions, OAuthClient } from '../types.js'
import { isHandlingRedirectCallback } from './redirect-callback.js'
import { useAuthContext } from './useAuth.js'

/** Props of {@link RequireAuth}. */
export interface RequireAuthProps {
  /** Rendered while the session is loading and while the sign-in starts. Default `null`. */
  fallback?: ReactNode
  /**
   * Options of the `login()` started for signed-out users. `returnTo` defaults to the current
   * path, query and fragment, so that the user comes back to this page.
   */
  loginOptions?: LoginOptions
  /** Rendered only when the user is signed in. */
  children?: ReactNode
}

/**
 * Sign-ins started by `RequireAuth`, one per client: `login()` leaves the page, so a second one
 * (StrictMode's second effect, a second `RequireAuth`, a remount) must not start. Cleared if
 * `login()` fails, so that a later mount may try again.
 */
const loginsStarted = new WeakSet<OAuthClient>()

/**
 * Renders `children` only when the user is signed in. While the session is loading it renders
 * `fallback`; when there is no session it starts `login({ returnTo: <current path> })`, once, and
 * keeps rendering `fallback` (never the children) while the page leaves. If that `login()` fails,
 * the error is in `useAuth().error` (e.g. for a `fallback` that shows it). On the redirect
 * callback page it starts no sign-in: the provider is completing one, and a failed callback is
 * shown through `useAuth().error` rather than retried in a loop.
 *
 * @example
 * ```tsx
 * <AuthProvider client={auth}>
 *   <RequireAuth fallback={<p>Signing you in…</p>} loginOptions={{ prompt: 'login' }}>
 *     <Dashboard />
 *   </RequireAuth>
 * </AuthProvider>
 * ```
 */
export function RequireAuth({ fallback = null, loginOptions, children }: RequireAuthProps): ReactElement {
  const { client, auth } = useAuthContext('<RequireAuth>')
  const { status, login } = auth

  // Read when the effect runs: an inline options object must not re-trigger it.
  const loginOptionsRef = useRef(loginOptions)
  useEffect(() => {
    loginOptionsRef.current = loginOptions
  })

  useEffect(() => {
    if (status !== 'unauthenticated' || loginsStarted.has(client)) return
    // On the redirect callback page the provider is signing the user in: don't start another.
    if (isHandlingRedirectCallback(client)) return
    loginsStarted.add(client)
    const options = loginOptionsRef.current
    const { pathname, search, hash } = window.location
    login({ ...options, returnTo: options?.returnTo ?? pathname + search + hash }).catch(() => {
      // login() only settles when it failed before leaving the page; the provider exposes the
      // error as useAuth().error. A later mount may try again.
      loginsStarted.delete(client)
    })
  }, [status, client, login])

  // A fragment, not the bare node: @types/react before 18.2.8 accepts only elements from components.
  return <>{status === 'authenticated' ? children : fallback}</>
}

/** Options of {@link withAuthRequired}. */
export interface WithAuthRequiredOptions {
  /** Rendered while the session is loading and while the sign-in starts. Default `null`. */
  fallback?: ReactNode
  /** Options of the `login()` started for signed-out users (see {@link RequireAuthProps}). */
  loginOptions?: LoginOptions
}

/**
 * Wraps `Component` in {@link RequireAuth}: it renders only for signed-in users, and a sign-in
 * starts for the others.
 *
 * @example
 * ```tsx
 * const ProtectedSettings = withAuthRequired(Settings, { fallback: <Spinner /> })
 * <Route path="/settings" element={<ProtectedSettings />} />
 * ```
 */
export function withAuthRequired<P extends object>(
  Component: ComponentType<P>,
  options: WithAuthRequiredOptions = {},
): ComponentType<P> {
  function WithAuthRequired(props: P): ReactElement {
    return (
      <RequireAuth fallback={options.fallback} loginOptions={options.loginOptions}>
        <Component {...props} />
      </RequireAuth>
    )
  }
  WithAuthRequired.displayName = `withAuthRequired(${Component.displayName || Component.name || 'Component'})`
  return WithAuthRequired
}
