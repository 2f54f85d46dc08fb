/**
 * `readChallenge`: an API's `WWW-Authenticate` answer as a typed value. Parsing is oauth4webapi's
 * (the header grammar of RFC 9110 §11.6.1); picking the challenge that matters is in
 * `challenge-parse.ts`. Both load on first need: this module only names the parameters, of RFC 6750
 * (`invalid_token`, `insufficient_scope` with `scope`), RFC 9449 (`use_dpop_nonce`), RFC 9470
 * (`insufficient_user_authentication` with `acr_values`, `max_age`) and RFC 9728 (`resource_metadata`).
 *
 * @module
 */

import { once } from '../lazy.js'

const loadParser = once(() => import('../provider/protocol.js'))

/** What an API asked for in its `WWW-Authenticate` header. */
export interface Challenge {
  /** The auth-scheme, lowercased: `'bearer'`, `'dpop'`, … */
  readonly scheme: string
  /** The `error` parameter, e.g. `invalid_token`, `insufficient_scope`, `insufficient_user_authentication`, `use_dpop_nonce`. */
  readonly error?: string
  /** The `error_description` parameter: text from a remote party, render it only as text. */
  readonly errorDescription?: string
  /** The `scope` parameter (space-separated): the scopes the request needs (RFC 6750 §3). */
  readonly scope?: string
  /** The `acr_values` parameter, split: authentication context classes, most preferred first (RFC 9470). */
  readonly acrValues?: readonly string[]
  /** The `max_age` parameter, in seconds: how recent the user's authentication must be (RFC 9470). */
  readonly maxAge?: number
  /** The `resource_metadata` parameter: URL of the API's protected resource metadata (RFC 9728). */
  readonly resourceMetadata?: string
}

/**
 * Reads what an API asked for in a response's `WWW-Authenticate` header: resolves with `undefined`
 * when it has none (or one that does not parse). The response's body is not read. Asynchronous,
 * as oauth4webapi's parsing is; rejects with `network_error` when the parser (loaded on first
 * need) cannot be loaded.
 *
 * @example
 * ```ts
 * const r = await auth.fetch('https://api.example.com/transfer', { method: 'POST', body })
 * const challenge = await readChallenge(r)
 * if (challenge?.error === 'insufficient_user_authentication') {
 *   await auth.loginWithPopup({ acrValues: challenge.acrValues, maxAge: challenge.maxAge })
 * }
 * ```
 */
export async function readChallenge(response: Response): Promise<Challenge | undefined> {
  const headers = (response as Partial<Response> | null | undefined)?.headers
  const header: unknown = typeof headers?.get === 'function' ? headers.get('www-authenticate') : null
  // Only a header value (a string) is parsed: a look-alike whose get() answers anything else has none.
  if (typeof header !== 'string') return undefined
  // The parser comes with oauth4webapi, loaded on first need (network_error when it cannot be).
  const { parseChallenges, pickChallenge } = await loadParser()
  return pickChallenge(await parseChallenges(header))
}
