/**
 * `<AuthProvider>`: makes an {@link OAuthClient} (given, or made from the options given as props)
 * available to {@link useAuth} and handles the redirect callback.
 *
 * @module
 */
import { useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react'
import type { ReactElement, ReactNode } from 'react'
import type { OAuthError } from '../errors.js'
import type { AuthSnapshot, OAuthClient, OAuthClientOptions, RedirectResult } from '../types.js'
import { clientFor, optionsKey } from './client-from-options.js'
import { AuthContext } from './context.js'
import type { AuthContextValue, AuthState } from './context.js'
import { startRedirectCallback, toOAuthError } from './redirect-callback.js'

/** Props of {@link AuthProvider} besides the client (or its options). */
export interface AuthProviderBaseProps {
  /**
   * Called once after the redirect callback has been handled, with the same-origin path the
   * sign-in should return to (the `returnTo` given to `login()`) and the whole result
   * (`{ returnTo, user, appState }`, with the `appState` given to `login()`). Also called with `'/'`
   * and no result when the callback had already been handled (e.g. the user went back to the
   * callback URL), so the app leaves the callback page. Default:
   * `window.history.replaceState(null, '', returnTo)`; pass your router's navigate function
   * instead so that the router sees the change.
   *
   * @example
   * ```tsx
   * const navigate = useNavigate()
   * <AuthProvider client={auth} onRedirectCallback={(to) => navigate(to, { replace: true })}>
   * ```
   */
  onRedirectCallback?: (returnTo: string, result: RedirectResult | undefined) => void
  /** The app. */
  children?: ReactNode
}

/** {@link AuthProvider} given a client made with `createOAuthClient()`. */
export type AuthProviderClientProps = AuthProviderBaseProps & {
  /** The client from `createOAuthClient()`. Create it once, outside of any component. */
  client: OAuthClient
} & { readonly [K in keyof OAuthClientOptions]?: never }

/**
 * {@link AuthProvider} given the options of `createOAuthClient()` as props: it makes the client
 * itself, one per distinct set of options for the whole page (equal values give the same client,
 * so an inline `resource={[…]}` is fine). Use `client={…}` instead when code outside React needs
 * the client too.
 */
export type AuthProviderOptionsProps = AuthProviderBaseProps & OAuthClientOptions & {
  /** Not given: the provider makes the client from the other props. */
  client?: undefined
}

/** Props of {@link AuthProvider}: a `client`, or the options to make one with. */
export type AuthProviderProps = AuthProviderClientProps | AuthProviderOptionsProps

/** What the server (and hydration) renders: the session is not known there. */
const SERVER_SNAPSHOT: AuthSnapshot = Object.freeze({ status: 'loading' as const })
const getServerSnapshot = (): AuthSnapshot => SERVER_SNAPSHOT

function defaultOnRedirectCallback(returnTo: string): void {
  window.history.replaceState(null, '', returnTo)
}

/**
 * Provides the client's state to {@link useAuth}, {@link RequireAuth} and
 * {@link withAuthRequired}, through `useSyncExternalStore`, so every tab's changes (sign-in,
 * sign-out, expiry) re-render the app. Give it a `client`, or the options of
 * `createOAuthClient()` directly as props (`<AuthProvider issuer=… clientId=… redirectUri=…>`);
 * invalid options then throw `configuration_error` while rendering (an error boundary sees it).
 *
 * On mount, when the page is the redirect callback (`client.isRedirectCallback()`), it calls
 * `client.handleRedirectCallback()` exactly once, also under `StrictMode`, then
 * `onRedirectCallback(returnTo, result)`. A failed callback is exposed as `useAuth().error`; a
 * callback that had already been handled is not an error.
 *
 * Safe to render on the server: it renders the `'loading'` state and touches `window` only in
 * effects.
 *
 * @example
 * ```tsx
 * import { createOAuthClient } from 'oauth-spa'
 * import { AuthProvider } from 'oauth-spa/react'
 *
 * const auth = createOAuthClient({ issuer, clientId, redirectUri })
 *
 * createRoot(el).render(
 *   <AuthProvider client={auth}>
 *     <App />
 *   </AuthProvider>,
 * )
 * ```
 */
export function AuthProvider(props: AuthProviderProps): ReactElement {
  const { client: given, onRedirectCallback, children, ...options } = props
  const key = given === undefined ? optionsKey(options as OAuthClientOptions) : undefined
  // Keyed by the options' value, not their identity: inline props re-render with new objects.
  const client = useMemo(() => given ?? clientFor(key ?? '', options as OAuthClientOptions), [given, key])
  const subscribe = useCallback((listener: () => void) => client.subscribe(listener), [client])
  const getSnapshot = useCallback(() => client.getSnapshot(), [client])
  const snapshot = useSyncExternalStore(subscribe, getSnapshot, getServerSnapshot)

  /**
   * An error of this provider's own doing (the redirect callback, or a `login()` that failed),
   * with the client it came from: it does not outlive a change of `client`.
   */
  const [own, setOwn] = useState<{ client: OAuthClient; error: OAuthError } | undefined>(undefined)
  const ownError = own?.client === client ? own.error : undefined

  const onRedirectCallbackRef = useRef(onRedirectCallback)
  useEffect(() => {
    onRedirectCallbackRef.current = onRedirectCallback
  })

  useEffect(() => {
    const entry = startRedirectCallback(client)
    if (entry === undefined) return undefined
    let active = true
    const deliver = (returnTo: string, result: RedirectResult | undefined): void => {
      if (!active || entry.delivered) return
      entry.delivered = true
      ;(onRedirectCallbackRef.current ?? defaultOnRedirectCallback)(returnTo, result)
    }
    entry.promise.then(
      (result) => deliver(result.returnTo, result),
      (error: unknown) => {
        if (!active) return
        const oauthError = toOAuthError(error, 'invalid_callback', 'The redirect callback failed.')
        if (oauthError.code === 'callback_already_handled') deliver('/', undefined)
        else setOwn({ client, error: oauthError })
      },
    )
    return () => {
      active = false
    }
  }, [client])

  const actions = useMemo(
    () => ({
      login: (options?: Parameters<OAuthClient['login']>[0]): Promise<never> => {
        setOwn(undefined)
        return client.login(options).catch((error: unknown) => {
          const oauthError = toOAuthError(error, 'configuration_error', 'login() failed.')
          setOwn({ client, error: oauthError })
          throw oauthError
        })
      },
      // Synchronous up to window.open: call it straight from a click handler.
      loginWithPopup: (options?: Parameters<OAuthClient['loginWithPopup']>[0]) => {
        setOwn(undefined)
        return client.loginWithPopup(options)
      },
      logout: (options?: Parameters<OAuthClient['logout']>[0]): Promise<void> => {
        setOwn(undefined)
        return client.logout(options)
      },
      getAccessToken: (options?: Parameters<OAuthClient['getAccessToken']>[0]) =>
        client.getAccessToken(options),
      fetch: (input: RequestInfo | URL, init?: RequestInit) => client.fetch(input, init),
      getIdToken: () => client.getIdToken(),
    }),
    [client],
  )

  // A stale callback or login error no longer applies once a session exists.
  const error =
    snapshot.error ?? (snapshot.status === 'authenticated' ? undefined : ownError)

  const value = useMemo<AuthContextValue>(() => {
    const auth: AuthState = {
      status: snapshot.status,
      isAuthenticated: snapshot.status === 'authenticated',
      isLoading: snapshot.status === 'loading',
      user: snapshot.user,
      error,
      ...actions,
    }
    return { client, auth }
  }, [client, snapshot, error, actions])

  return <AuthContext.Provider value={value}>{children}</AuthContext.Provider>
}
