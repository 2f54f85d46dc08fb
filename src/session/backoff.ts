/**
 * Back-off after refreshes that failed for the provider's or the network's sake (5xx, offline):
 * the next refresh waits 1 s, then 2, 4, … up to 60 s. Until then a caller that needs a refresh
 * gets the last failure again at once, and nothing is sent: a struggling provider is not hammered,
 * and the refresh token (which the provider may have rotated before failing) is not replayed in a
 * loop. A success, or the end of the wait, lets the next refresh through.
 *
 * @module
 */
import { OAuthError } from '../errors.js'
import { redact } from '../provider/redact.js'

/** First wait after a failure. */
export const BACKOFF_FIRST_MS = 1000
/** Longest wait. */
export const BACKOFF_MAX_MS = 60_000

/** The back-off state of one session. */
export interface Backoff {
  /** A refresh failed with `error`: wait longer before the next one. */
  failed(error: OAuthError): void
  /** A refresh succeeded: no wait. */
  succeeded(): void
  /** The error to answer with while waiting, or `undefined` when a refresh may be sent. */
  waiting(): OAuthError | undefined
}

/** Creates the back-off state. */
export function createBackoff(now: () => number = Date.now): Backoff {
  let failures = 0
  let until = 0
  let last: OAuthError | undefined
  return {
    failed(error) {
      failures++
      last = error
      until = now() + Math.min(BACKOFF_FIRST_MS * 2 ** (failures - 1), BACKOFF_MAX_MS)
    },
    succeeded() {
      failures = 0
      until = 0
      last = undefined
    },
    waiting() {
      if (!last || now() >= until) return undefined
      const seconds = Math.ceil((until - now()) / 1000)
      return new OAuthError(last.code, `refresh: backing off after ${failures} failure${failures > 1 ? 's' : ''}; the next refresh is sent in ${seconds} s`, {
        cause: redact(last),
        ...(last.status === undefined ? {} : { status: last.status }),
      })
    },
  }
}
