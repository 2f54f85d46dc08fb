/**
 * Public types of oauth-spa. Everything here is part of the contract in DESIGN.md.
 *
 * @module
 */
import type { OAuthError } from './errors.js'

/**
 * Options accepted by {@link createOAuthClient}.
 *
 * @example
 * ```ts
 * const auth = createOAuthClient({
 *   issuer: 'https://auth.example.com',
 *   clientId: 'my-spa',
 *   redirectUri: 'https://app.example.com/callback',
 *   apiOrigins: ['https://api.example.com'],
 * })
 * ```
 */
export interface OAuthClientOptions {
  /** Issuer identifier. Its OpenID discovery document (RFC 8414 metadata as fallback) is fetched lazily, once. */
  issuer: string
  /** The public client's `client_id` as registered at the provider. */
  clientId: string
  /** Absolute redirect URI, registered exactly at the provider. No fragment. */
  redirectUri: string
  /** Absolute URI the provider returns to after RP-initiated logout. Optional. */
  postLogoutRedirectUri?: string
  /** Space-separated scopes. Default `'openid profile email offline_access'`. */
  scope?: string
  /** RFC 8707 resource indicator(s). The first one is the default audience of `getAccessToken()`. */
  resource?: string | string[]
  /** Origins (scheme, host and port) to which `auth.fetch` may attach tokens. Default: none. */
  apiOrigins?: string[]
  /** Sender-constrain tokens with DPoP (RFC 9449). Default `false`. */
  dpop?: boolean
  /** Where tokens live. `'memory'` persists nothing: a reload ends the session. Default `'indexeddb'`. */
  storage?: 'indexeddb' | 'memory'
  /**
   * Refresh an access token this many seconds before it expires. Default `30`. Never more than half
   * of the token's lifetime: a token that lives 30 s is refreshed after 15 s, not on every call.
   */
  refreshLeewaySeconds?: number
  /**
   * Require the RFC 9207 `iss` parameter on every callback, even where the provider's metadata does
   * not announce it. Default `false`; it is always required when two clients of different issuers
   * share this `redirectUri` in the page (RFC 9700 §4.4 mix-up).
   */
  requireIss?: boolean
  /**
   * Clock difference, in seconds, tolerated between this device and the provider when the ID
   * token's `exp`, `iat`, `nbf` and `auth_time` are checked. Default `30`.
   */
  clockToleranceSeconds?: number
  /** Allow `http://` issuers and endpoints. Only for local development. Default `false`. */
  allowInsecureRequests?: boolean
  /** Timeout of every request to the provider, in seconds. Default `15`. */
  requestTimeoutSeconds?: number
  /**
   * Use Pushed Authorization Requests (RFC 9126). Default `false`; PAR is always used when the
   * provider's metadata sets `require_pushed_authorization_requests`.
   */
  pushedAuthorizationRequests?: boolean
  /**
   * Provider metadata merged over the discovered document, for what a provider documents but does
   * not advertise (e.g. Amazon Cognito's `/logout`). `null` takes a field away. See
   * `docs/providers/`. Only {@link MetadataOverride}'s fields can be set.
   */
  metadata?: MetadataOverride
  /** How the end-session (RP-initiated logout) request is shaped, for providers whose logout is not OIDC's. */
  endSession?: EndSessionOptions
  /**
   * Parameters added to every authorization request (e.g. Auth0's `audience`, Google's
   * `access_type`). `login({ extraParams })` wins over these; the protocol's own parameters
   * (`client_id`, `scope`, `state`, PKCE…) cannot be set here.
   */
  authorizationParams?: Record<string, string>
  /**
   * Send `prompt=consent` (added to any other `prompt`, except `none`) whenever a sign-in asks for
   * `offline_access`. OpenID Connect Core §11 tells providers to ignore `offline_access` without
   * it, so such providers (oidc-provider among them) issue no refresh token. Default `false`.
   */
  offlineAccessConsent?: boolean
  /**
   * Microsoft Entra ID multi-tenant (`common`, `organizations`, `consumers`): the issuer the
   * discovery document names, with `{tenantid}`, e.g.
   * `'https://login.microsoftonline.com/{tenantid}/v2.0'`. Each ID token's `iss` must then equal it
   * with the token's `tid` claim in place of `{tenantid}`.
   */
  issuerTemplate?: string
  /**
   * `'iframe'`: when the session has no refresh token, or the provider refuses it, try a
   * `prompt=none` sign-in in a hidden iframe before ending the session. It needs the provider's
   * cookies in the iframe (a same-site provider, or a browser that allows third-party cookies).
   * Default `'none'`.
   */
  silentRenew?: 'none' | 'iframe'
  /** Redirect URI of silent renewal (registered at the provider). Default: `redirectUri`. */
  silentRedirectUri?: string
  /** With `silentRenew: 'iframe'`: a page with no stored session tries one silent sign-in first. Default `false`. */
  restoreOnLoad?: boolean
  /**
   * How `auth.fetch` meets an API's step-up challenge (RFC 9470 `insufficient_user_authentication`,
   * RFC 6750 `insufficient_scope`): `'popup'` signs in in a popup and retries once, `'redirect'`
   * signs in through a full-page redirect back to the current location, `'none'` returns the
   * response as it came. Default `'none'`.
   */
  stepUp?: 'none' | 'popup' | 'redirect'
}

/**
 * Metadata fields an app may state over discovery ({@link OAuthClientOptions.metadata}); `null`
 * removes the field. The issuer, authorization, token and JWKS endpoints always come from discovery.
 */
export interface MetadataOverride {
  /** Where logout sends the browser (OIDC RP-Initiated Logout, or a provider's own logout URL). */
  end_session_endpoint?: string | null
  /** RFC 7009 revocation endpoint; `null` when the provider refuses public clients there. */
  revocation_endpoint?: string | null
  /** Scopes the provider supports; the default `scope` drops `offline_access` when this does not list it. */
  scopes_supported?: readonly string[] | null
}

/** Shape of the end-session request ({@link OAuthClientOptions.endSession}). */
export interface EndSessionOptions {
  /**
   * Name of the parameter that carries where to return: `'post_logout_redirect_uri'` (OIDC, the
   * default), `'logout_uri'` (Amazon Cognito), `'returnTo'` (Auth0's `/v2/logout`).
   */
  returnToParameter?: string
  /** Send `id_token_hint`. Default `true`; providers whose logout URL is not OIDC's may not take it. */
  idTokenHint?: boolean
}

/**
 * What a sign-in asked for and what came back: the way to see that a provider dropped
 * `offline_access` (and issued no refresh token).
 */
export interface SignInGrant {
  /** The scope the authorization request asked for. */
  readonly requestedScope: string
  /**
   * The scope the token response granted; the requested one when the response named none (RFC 6749
   * §5.1 lets a provider omit it, and providers with resource indicators often do). Whether
   * `refreshToken` is true is the reliable signal that `offline_access` took effect.
   */
  readonly grantedScope: string
  /** Whether a refresh token came: without one the session ends when the access token expires. */
  readonly refreshToken: boolean
}

/** Whether the client knows the session yet, and whether there is one. */
export type AuthStatus = 'loading' | 'authenticated' | 'unauthenticated'

/** Claims of the validated ID token of the signed-in user. */
export interface User {
  /** Subject identifier at the issuer. */
  readonly sub: string
  readonly [claim: string]: unknown
}

/** Immutable state of the client, shaped for React's `useSyncExternalStore`. */
export interface AuthSnapshot {
  readonly status: AuthStatus
  readonly user?: User
  readonly error?: OAuthError
}

/** Options of {@link OAuthClient.login}. */
export interface LoginOptions {
  /** Same-origin path to return to after sign-in. Default: the current path. Foreign URLs are refused. */
  returnTo?: string
  /** Scopes for this sign-in. Default: the client's `scope`. */
  scope?: string
  /** Resource indicator(s) for this sign-in. Default: the client's `resource`. */
  resource?: string | string[]
  /** OpenID `prompt`, e.g. `'login'`, `'consent'`, `'none'`. */
  prompt?: string
  /** OpenID `login_hint`. */
  loginHint?: string
  /**
   * Requested authentication context classes (`acr_values`), most preferred first. The ID token's
   * `acr` must be one of them, or the sign-in fails with `invalid_token_response`.
   */
  acrValues?: string | string[]
  /** OpenID `max_age` in seconds: the ID token's `auth_time` must be at most this old. */
  maxAge?: number
  /** More authorization request parameters. The protocol's own parameters cannot be overridden. */
  extraParams?: Record<string, string>
}

/** Options of {@link OAuthClient.loginWithPopup}. */
export interface PopupLoginOptions extends LoginOptions {
  /** How long to wait for the popup's sign-in. Default `120`. */
  timeoutSeconds?: number
}

/** What {@link OAuthClient.handleRedirectCallback} resolves with. */
export interface RedirectResult {
  /** The same-origin path given to `login()` (or the path `login()` was called from). */
  returnTo: string
  /** Claims of the signed-in user, or `undefined` without `openid` scope. */
  user: User | undefined
  /** What the sign-in asked for and what came back (scope, refresh token). */
  grant: SignInGrant
}

/** Options of {@link OAuthClient.getAccessToken}. */
export interface GetAccessTokenOptions {
  /** Audience (RFC 8707). Default: the first configured `resource`. */
  resource?: string
  /** Scopes, at most those granted at sign-in. Default: the client's `scope`. */
  scope?: string
  /** Refresh even if the cached token is still valid. */
  forceRefresh?: boolean
}

/** Options of {@link OAuthClient.logout}. */
export interface LogoutOptions {
  /**
   * Absolute URL or same-origin path to land on. It is sent as `post_logout_redirect_uri`
   * (so it must be registered); default `postLogoutRedirectUri`.
   */
  returnTo?: string
  /** Only end the local session: no navigation to the provider's end-session endpoint. */
  localOnly?: boolean
}

/** Payloads of the events of {@link OAuthClient.on}. */
export interface OAuthEventMap {
  /** A sign-in completed, in this tab or another tab of the origin. */
  login: { user: User | undefined }
  /** The session was ended by `logout()`, in this tab or another. */
  logout: Record<string, never>
  /** An access token was obtained with the refresh token. */
  token_refreshed: { resource: string | undefined; scope: string; expiresAt: number }
  /** The provider ended the session (`invalid_grant`) or it became unusable; sign in again. */
  session_expired: { error: OAuthError }
  /** IndexedDB could not be opened: the client keeps tokens in memory only. */
  storage_fallback: { error: OAuthError }
  /**
   * A failure that no call returned (e.g. revocation at logout), or a sign-in that asked for
   * `offline_access` and got no refresh token (`configuration_error`; see `offlineAccessConsent`).
   */
  error: { error: OAuthError }
}

/** Name of an event of {@link OAuthClient.on}. */
export type OAuthEvent = keyof OAuthEventMap

/** The client returned by {@link createOAuthClient}. All methods are bound: they may be passed around. */
export interface OAuthClient {
  /** Starts a sign-in: navigates to the provider. The returned promise never resolves (the page leaves). */
  login(options?: LoginOptions): Promise<never>
  /**
   * Signs in in a popup; the page stays. Call it in a user gesture (a click): the window opens at
   * once. Resolves like {@link OAuthClient.handleRedirectCallback} when the popup's sign-in is done.
   * Fails with `popup_blocked`, `popup_closed` (where the browser can tell), `timeout`,
   * `authorization_error`, or any callback error.
   */
  loginWithPopup(options?: PopupLoginOptions): Promise<RedirectResult>
  /** Validates and redeems the callback. Safe to call twice in one page. */
  handleRedirectCallback(url?: string): Promise<RedirectResult>
  /**
   * Whether `url` (default `location.href`) is this client's redirect URI carrying an authorization
   * response (`state` with `code` or `error`) not yet handled in this page.
   */
  isRedirectCallback(url?: string): boolean
  /** A valid access token, refreshed if needed. No session: `OAuthError` `login_required`. */
  getAccessToken(options?: GetAccessTokenOptions): Promise<string>
  /** `fetch` that attaches the access token for `apiOrigins` and refreshes it when needed. */
  fetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response>
  /** Claims of the signed-in user, or `undefined`. */
  getUser(): User | undefined
  /** The current immutable snapshot. */
  getSnapshot(): AuthSnapshot
  /** Calls `listener` on every snapshot change. Returns the unsubscribe function. */
  subscribe(listener: () => void): () => void
  /** Listens to an event. Returns the unsubscribe function. */
  on<E extends OAuthEvent>(event: E, listener: (payload: OAuthEventMap[E]) => void): () => void
  /** Revokes the refresh token, wipes the session in every tab, then goes to the end-session endpoint. */
  logout(options?: LogoutOptions): Promise<void>
}
