/**
 * Handling of the redirect callback by {@link AuthProvider}: once per page, even when React mounts
 * the provider twice (StrictMode) or several providers share one client.
 *
 * @module
 */
import { isOAuthError, OAuthError } from '../errors.js'
import type { OAuthClient, RedirectResult } from '../types.js'

/** @internal One callback being (or having been) handled for a client. */
export interface CallbackEntry {
  /** The URL that was handled. */
  readonly url: string
  readonly promise: Promise<RedirectResult>
  /** Whether the outcome has been acted on (navigation done); later mounts then leave it alone. */
  delivered: boolean
  /** Whether `promise` has settled. */
  settled: boolean
  /** Whether it failed (other than as a replay): no sign-in starts by itself on this page then. */
  failed: boolean
}

/**
 * Module-level, keyed by client: a `useRef` would not do, since StrictMode (and Suspense,
 * `<Activity>`…) can run the provider's effects again on what React treats as a new mount.
 */
const callbacks = new WeakMap<OAuthClient, CallbackEntry>()

/**
 * @internal
 * The callback entry the provider should follow on mount: an undelivered one already started for
 * this client, or a new one when the current URL is a callback; `undefined` otherwise.
 * Only to be called from an effect (reads `window.location`).
 */
export function startRedirectCallback(client: OAuthClient): CallbackEntry | undefined {
  const existing = callbacks.get(client)
  if (existing !== undefined && !existing.delivered) return existing
  const url = window.location.href
  if (existing?.url === url) return undefined
  if (!client.isRedirectCallback(url)) return undefined
  let promise: Promise<RedirectResult>
  try {
    promise = client.handleRedirectCallback(url)
  } catch (error) {
    promise = Promise.reject(error)
  }
  const entry: CallbackEntry = { url, promise, delivered: false, settled: false, failed: false }
  promise.then(
    () => {
      entry.settled = true
    },
    (error: unknown) => {
      entry.settled = true
      entry.failed = !isOAuthError(error, 'callback_already_handled')
    },
  )
  callbacks.set(client, entry)
  return entry
}

/**
 * @internal
 * Whether a sign-in must not start now because the page is a redirect callback that is being, or
 * is about to be, handled. Only to be called from an effect (reads `window.location`).
 */
export function isHandlingRedirectCallback(client: OAuthClient): boolean {
  const entry = callbacks.get(client)
  // Still running, or failed: a failed callback is shown (useAuth().error), never answered with a
  // new sign-in, which could loop back to a provider that refuses again (e.g. access_denied).
  if (entry !== undefined && (!entry.settled || entry.failed)) return true
  if (entry?.url === window.location.href) return false
  return client.isRedirectCallback(window.location.href)
}

/** @internal Any thrown value as an `OAuthError` (the core throws nothing else; this is a guard). */
export function toOAuthError(error: unknown, code: OAuthError['code'], message: string): OAuthError {
  return isOAuthError(error) ? error : new OAuthError(code, message, { cause: error })
}
