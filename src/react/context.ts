/**
 * The React context shared by {@link AuthProvider}, {@link useAuth} and {@link RequireAuth}.
 *
 * @module
 */
import { createContext } from 'react'
import type { OAuthError } from '../errors.js'
import type { AuthStatus, OAuthClient, User } from '../types.js'

/**
 * What {@link useAuth} returns: the client's state and its bound methods.
 *
 * The object changes identity when the state changes; `login`, `logout`, `getAccessToken`,
 * `getIdToken` and `fetch` keep the same identity for as long as the provider's `client` does, so they are safe in
 * dependency arrays.
 *
 * @example
 * ```tsx
 * const { isLoading, isAuthenticated, user, login, logout } = useAuth()
 * if (isLoading) return <Spinner />
 * return isAuthenticated
 *   ? <button onClick={() => logout()}>Sign out {user?.name ?? user?.sub}</button>
 *   : <button onClick={() => login()}>Sign in</button>
 * ```
 */
export interface AuthState {
  /** `'loading'` until the client knows whether there is a session (always so on the server). */
  readonly status: AuthStatus
  /** `status === 'authenticated'`. */
  readonly isAuthenticated: boolean
  /** `status === 'loading'`: the session is not known yet (or a redirect callback is being handled). */
  readonly isLoading: boolean
  /** ID token claims of the signed-in user, or `undefined`. */
  readonly user: User | undefined
  /**
   * The last error: the client's own (its snapshot's `error`), a failed redirect callback, or a
   * `login()` that failed before leaving the page. `undefined` when none.
   */
  readonly error: OAuthError | undefined
  /** {@link OAuthClient.login}: starts a sign-in (navigates to the provider). */
  readonly login: OAuthClient['login']
  /**
   * {@link OAuthClient.loginWithPopup}: signs in in a popup, the page stays. Call it in a click
   * handler; it resolves with `{ returnTo, user }` and rejects with the popup's error.
   */
  readonly loginWithPopup: OAuthClient['loginWithPopup']
  /** {@link OAuthClient.logout}: ends the session in every tab. */
  readonly logout: OAuthClient['logout']
  /** {@link OAuthClient.getAccessToken}: a valid access token, refreshed if needed. */
  readonly getAccessToken: OAuthClient['getAccessToken']
  /** {@link OAuthClient.fetch}: `fetch` that attaches the access token for the allowed API origins. */
  readonly fetch: OAuthClient['fetch']
  /** {@link OAuthClient.getIdToken}: the raw ID token, for a back end that needs it (read its risks there). */
  readonly getIdToken: OAuthClient['getIdToken']
}

/** @internal What the provider puts in the context. */
export interface AuthContextValue {
  readonly client: OAuthClient
  readonly auth: AuthState
}

/** @internal */
export const AuthContext = createContext<AuthContextValue | null>(null)
AuthContext.displayName = 'OAuthSpaContext'
