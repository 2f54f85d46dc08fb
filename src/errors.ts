/**
 * `OAuthError`: the one error type oauth-spa throws, with a stable `code`.
 *
 * @module
 */

/**
 * Stable error codes. Match on these, never on `message`.
 *
 * - `login_required`: there is no session (or it ended); call `login()`.
 * - `invalid_state`: the callback's `state` is missing, unknown, replayed or expired. Nothing was stored.
 * - `callback_already_handled`: this callback was already completed in this browser (e.g. the back button).
 * - `invalid_callback`: the callback is malformed or forged (wrong `iss`, duplicate parameters, implicit-flow tokens).
 * - `authorization_error`: the provider refused a request with an OAuth `error` (see `error`, `errorDescription`):
 *   the authorization request (`error=` on the callback, e.g. `access_denied`), or a token request for
 *   anything but `invalid_grant` (e.g. `invalid_scope`, `invalid_target`). The session is kept.
 * - `invalid_grant`: the provider refused the code (e.g. already redeemed).
 * - `invalid_token_response`: the token response is malformed, or its ID token fails validation. From a
 *   refresh whose answer was a success (the provider may have rotated the refresh token), it ends the session.
 * - `network_error`: the provider could not be reached or answered with a 5xx. The session is kept.
 * - `timeout`: a request to the provider took longer than `requestTimeoutSeconds`. The session is kept.
 * - `origin_not_allowed`: a token was requested for an origin outside `apiOrigins`.
 * - `redirect_not_allowed`: an API answered a token-bearing request with a redirect; it was not followed.
 * - `configuration_error`: the options or the provider's metadata cannot work; the message says what to fix.
 * - `storage_error`: IndexedDB failed while writing; nothing partial was kept.
 * - `dpop_error`: the DPoP key is missing or unusable, or the provider downgraded a DPoP token to Bearer.
 * - `popup_blocked`: `loginWithPopup` could not open its window (call it in a click). Nothing was started.
 * - `popup_closed`: the sign-in popup was closed before it completed (where the browser can tell).
 */
export type OAuthErrorCode =
  | 'login_required'
  | 'invalid_state'
  | 'callback_already_handled'
  | 'invalid_callback'
  | 'authorization_error'
  | 'invalid_grant'
  | 'invalid_token_response'
  | 'network_error'
  | 'timeout'
  | 'origin_not_allowed'
  | 'redirect_not_allowed'
  | 'configuration_error'
  | 'storage_error'
  | 'dpop_error'
  | 'popup_blocked'
  | 'popup_closed'

/** Extra fields of an {@link OAuthError}. */
export interface OAuthErrorDetails {
  /** The underlying cause, redacted: never a token or a whole token response. */
  cause?: unknown
  /** The provider's `error` value (authorization or token endpoint). */
  error?: string
  /** The provider's `error_description`: plain text from a remote party, render it only as text. */
  errorDescription?: string
  /** HTTP status of the provider's response, when there was one. */
  status?: number
}

/**
 * The error oauth-spa throws and reports.
 *
 * @example
 * ```ts
 * try {
 *   await auth.handleRedirectCallback()
 * } catch (e) {
 *   if (e instanceof OAuthError && e.code === 'callback_already_handled') navigate('/')
 *   else throw e
 * }
 * ```
 */
export class OAuthError extends Error {
  /** Always `'OAuthError'`. */
  override readonly name = 'OAuthError'
  /** Stable machine-readable code. */
  readonly code: OAuthErrorCode
  /** The provider's `error` value, when the provider sent one. */
  readonly error?: string
  /** The provider's `error_description`, when it sent one. Treat it as untrusted text. */
  readonly errorDescription?: string
  /** HTTP status of the provider's response, when there was one. */
  readonly status?: number

  constructor(code: OAuthErrorCode, message: string, details: OAuthErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause })
    this.code = code
    if (details.error !== undefined) this.error = details.error
    if (details.errorDescription !== undefined) this.errorDescription = details.errorDescription
    if (details.status !== undefined) this.status = details.status
  }

  /** Plain-object form, also used by `JSON.stringify`. Carries no token. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      error: this.error,
      errorDescription: this.errorDescription,
      status: this.status,
      cause: this.cause,
    }
  }
}

/**
 * Marks every OAuthError, whichever copy of the SDK made it: `Symbol.for` gives the same symbol in
 * every bundle of a page, where each bundle has its own `OAuthError` class.
 */
const BRAND: unique symbol = Symbol.for('oauth-spa.OAuthError') as never
;(OAuthError.prototype as unknown as Record<symbol, true>)[BRAND] = true

/**
 * Whether `value` is an {@link OAuthError}, optionally with the given code. Unlike `instanceof`, it
 * also recognises errors made by another copy of the SDK (another bundle on the page).
 *
 * @example
 * ```ts
 * try {
 *   await auth.getAccessToken()
 * } catch (e) {
 *   if (isOAuthError(e, 'login_required')) await auth.login()
 *   else throw e
 * }
 * ```
 */
export function isOAuthError(value: unknown, code?: OAuthErrorCode): value is OAuthError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as Record<symbol, unknown>)[BRAND] === true &&
    (code === undefined || (value as OAuthError).code === code)
  )
}
