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
  /**
   * Fetch the provider's UserInfo (OIDC Core §5.3) once per sign-in and merge it into the user:
   * for providers that put `name`, `email`, … only there (§5.4 allows it). Its `sub` must match
   * the ID token's; the claims about the authentication (`iss`, `sub`, `aud`, `auth_time`, `acr`, …)
   * stay the ID token's. A failure does not fail the sign-in: it is reported through the `error`
   * event and the user keeps the ID token claims. Default `false`.
   */
  userInfo?: boolean
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

/** The `address` claim (OpenID Connect Core §5.1.1). */
export interface AddressClaim {
  /** Full mailing address, formatted for display; lines may be separated by `\n`. */
  readonly formatted?: string
  /** Street address, possibly several lines separated by `\n`. */
  readonly street_address?: string
  /** City or locality. */
  readonly locality?: string
  /** State, province, prefecture or region. */
  readonly region?: string
  /** Zip or postal code. */
  readonly postal_code?: string
  /** Country name. */
  readonly country?: string
}

/**
 * The ID token claims of OpenID Connect Core §2 and the standard claims of §5.1, as the provider
 * sends them. Only `sub` is always present; which others appear depends on the scopes granted
 * (`profile`, `email`, `address`, `phone`) and on the provider.
 *
 * The SDK validates `iss`, `aud`, `azp`, `exp`, `iat`, `nonce` and `auth_time`; it does not
 * coerce the other claims: these types say what OpenID Connect specifies, and a provider that
 * sends, say, `email_verified: "true"` (a string) is not corrected.
 */
export interface StandardClaims {
  /** Subject identifier at the issuer: the user's stable id there. */
  readonly sub: string
  /** Issuer identifier. */
  readonly iss?: string
  /** Audience(s): the client id, possibly with others. */
  readonly aud?: string | readonly string[]
  /** Expiry of the ID token, seconds since the epoch. */
  readonly exp?: number
  /** Issue time of the ID token, seconds since the epoch. */
  readonly iat?: number
  /** When the user last authenticated, seconds since the epoch. */
  readonly auth_time?: number
  /** The nonce of the authorization request (already checked). */
  readonly nonce?: string
  /** Authentication context class reference (e.g. a level of assurance). */
  readonly acr?: string
  /** Authentication methods references (e.g. `['pwd', 'otp']`). */
  readonly amr?: readonly string[]
  /** Authorized party: the client id the ID token was issued to. */
  readonly azp?: string
  /** Session id at the provider (OpenID Connect Front-/Back-Channel Logout). */
  readonly sid?: string
  /** Full name, for display. */
  readonly name?: string
  /** Given (first) name(s). */
  readonly given_name?: string
  /** Surname(s). */
  readonly family_name?: string
  /** Middle name(s). */
  readonly middle_name?: string
  /** Casual name. */
  readonly nickname?: string
  /** Shorthand name the user wants to be referred to as (not unique, not stable: use `sub` as the id). */
  readonly preferred_username?: string
  /** URL of the user's profile page. */
  readonly profile?: string
  /** URL of the user's picture. */
  readonly picture?: string
  /** URL of the user's web page or blog. */
  readonly website?: string
  /** E-mail address (not unique, not stable: use `sub` as the id). */
  readonly email?: string
  /** Whether the provider verified the e-mail address. */
  readonly email_verified?: boolean
  /** Gender, e.g. `'female'` or `'male'`, or another value. */
  readonly gender?: string
  /** Birthday, `YYYY-MM-DD` (or `YYYY`, or `0000-MM-DD`). */
  readonly birthdate?: string
  /** Time zone name, e.g. `'Europe/Paris'`. */
  readonly zoneinfo?: string
  /** Locale, a BCP 47 language tag such as `'en-US'`. */
  readonly locale?: string
  /** Telephone number, preferably E.164. */
  readonly phone_number?: string
  /** Whether the provider verified the telephone number. */
  readonly phone_number_verified?: boolean
  /** Postal address. */
  readonly address?: AddressClaim
  /** When the user's information was last updated, seconds since the epoch. */
  readonly updated_at?: number
}

/**
 * Claims of the validated ID token of the signed-in user: the {@link StandardClaims}, and any other
 * claim as `unknown`.
 *
 * Declare your provider's own claims once, by declaration merging, and they are typed wherever a
 * user appears (`getUser()`, the snapshot, `handleRedirectCallback()`, `useAuth()`):
 *
 * @example
 * ```ts
 * declare module 'oauth-spa' {
 *   interface User {
 *     readonly roles?: readonly string[]
 *     readonly 'https://example.com/tenant'?: string
 *   }
 * }
 * ```
 */
export interface User extends StandardClaims {
  /** Any other claim the provider put in the ID token. */
  readonly [claim: string]: unknown
}

/** Immutable state of the client, shaped for React's `useSyncExternalStore`. */
export interface AuthSnapshot {
  /** Whether the session is known yet, and whether there is one. */
  readonly status: AuthStatus
  /** Claims of the signed-in user, when `status` is `'authenticated'` (and the sign-in had `openid`). */
  readonly user?: User
  /** Why the client is signed out, when it has a reason to report (a failed callback, an ended session). */
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
  acrValues?: string | readonly string[]
  /** OpenID `max_age` in seconds: the ID token's `auth_time` must be at most this old. */
  maxAge?: number
  /** More authorization request parameters. The protocol's own parameters cannot be overridden. */
  extraParams?: Record<string, string>
  /**
   * Data of the app to get back after the redirect, from `handleRedirectCallback()` (and
   * `<AuthProvider onRedirectCallback>`): e.g. a draft, the tab that was open. Stored with the
   * transaction on this device, never sent to the provider nor put in a URL.
   *
   * It must be plain JSON-compatible data (`null`, booleans, finite numbers, strings, arrays and
   * plain objects: structured-clonable, and unchanged also where the transaction rides in
   * sessionStorage) of at most {@link APP_STATE_MAX_BYTES} bytes as JSON; anything else is a
   * `configuration_error` and nothing starts. Not for secrets: it sits in the browser's storage
   * until the sign-in completes or expires.
   */
  appState?: unknown
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
  /** The `appState` given to `login()` (a copy), or `undefined` when none was given. */
  appState?: unknown
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
  login: {
    /** The user who signed in. */
    user: User | undefined
  }
  /** The session was ended by `logout()`, in this tab or another. */
  logout: Record<string, never>
  /** An access token was obtained with the refresh token. */
  token_refreshed: {
    /** The audience (RFC 8707 resource) of the new access token, if any. */
    resource: string | undefined
    /** The scope of the new access token. */
    scope: string
    /** When it expires, in milliseconds since the epoch. */
    expiresAt: number
  }
  /** The provider ended the session (`invalid_grant`) or it became unusable; sign in again. */
  session_expired: {
    /** Why the session ended. */
    error: OAuthError
  }
  /** IndexedDB could not be opened: the client keeps tokens in memory only. */
  storage_fallback: {
    /** Why IndexedDB could not be used (a `storage_error`). */
    error: OAuthError
  }
  /**
   * A failure that no call returned (e.g. revocation at logout), or a sign-in that asked for
   * `offline_access` and got no refresh token (`configuration_error`; see `offlineAccessConsent`).
   */
  error: {
    /** The failure. */
    error: OAuthError
  }
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
  /**
   * The raw ID token (a JWT) of the session, for a back end that asks for one; `undefined` when
   * signed out or when the sign-in had no `openid` scope.
   *
   * An ID token tells its audience (this client) who signed in: it is not an access token, and an
   * API must not accept it as one. Whatever you hand it to can impersonate the user toward
   * anything that does accept it, until it expires (its `exp`, which this method does not check or
   * renew: a refresh may bring a new one). Prefer `fetch`/`getAccessToken` for APIs; send an ID
   * token only over TLS to your own back end, which must validate its signature, `iss`, `aud` and
   * `exp`, and never log it.
   */
  getIdToken(): Promise<string | undefined>
  /** The current immutable snapshot. */
  getSnapshot(): AuthSnapshot
  /** Calls `listener` on every snapshot change. Returns the unsubscribe function. */
  subscribe(listener: () => void): () => void
  /** Listens to an event. Returns the unsubscribe function. */
  on<E extends OAuthEvent>(event: E, listener: (payload: OAuthEventMap[E]) => void): () => void
  /** Revokes the refresh token, wipes the session in every tab, then goes to the end-session endpoint. */
  logout(options?: LogoutOptions): Promise<void>
}
