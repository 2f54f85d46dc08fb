/**
 * `readChallenge`: an API's `WWW-Authenticate` answer as a typed value. Parsing is oauth4webapi's
 * (the header grammar of RFC 9110 §11.6.1); this module only picks the challenge that matters and
 * names its parameters: RFC 6750 (`invalid_token`, `insufficient_scope` with `scope`), RFC 9449
 * (`use_dpop_nonce`), RFC 9470 (`insufficient_user_authentication` with `acr_values`, `max_age`)
 * and RFC 9728 (`resource_metadata`).
 *
 * @module
 */
import type * as oauth from 'oauth4webapi'

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

const TOKEN_SCHEMES = new Set(['bearer', 'dpop'])

function absolute(value: string): boolean {
  try {
    new URL(value)
    return true
  } catch {
    return false
  }
}

/**
 * The challenge that matters among parsed ones: a Bearer or DPoP challenge with an `error` first,
 * then any Bearer or DPoP challenge, then the first one.
 */
export function pickChallenge(challenges: readonly oauth.WWWAuthenticateChallenge[] | undefined): Challenge | undefined {
  if (!challenges || challenges.length === 0) return undefined
  const chosen =
    challenges.find((c) => TOKEN_SCHEMES.has(c.scheme) && typeof c.parameters.error === 'string') ??
    challenges.find((c) => TOKEN_SCHEMES.has(c.scheme)) ??
    challenges[0]!
  const p = chosen.parameters
  const text = (value: string | undefined) => (typeof value === 'string' && value !== '' ? value : undefined)
  const out: { -readonly [K in keyof Challenge]: Challenge[K] } = { scheme: chosen.scheme }
  if (text(p.error)) out.error = p.error
  if (text(p.error_description)) out.errorDescription = p.error_description!.slice(0, 1000)
  const scope = text(p.scope)?.trim().split(/\s+/).join(' ')
  if (scope) out.scope = scope
  const acr = text(p['acr_values'])?.trim().split(/\s+/)
  if (acr && acr.length > 0) out.acrValues = acr
  const maxAge = text(p['max_age'])
  if (maxAge !== undefined && /^\d{1,10}$/.test(maxAge)) out.maxAge = Number(maxAge)
  const metadata = text(p['resource_metadata'])
  if (metadata !== undefined && absolute(metadata)) out.resourceMetadata = metadata
  return out
}

/**
 * Reads what an API asked for in a response's `WWW-Authenticate` header: resolves with `undefined`
 * when it has none (or one that does not parse). The response's body is not read. Asynchronous,
 * as oauth4webapi's parsing is.
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
  const header = typeof headers?.get === 'function' ? headers.get('www-authenticate') : null
  if (header === null) return undefined
  // The parser comes with oauth4webapi, loaded on first need.
  const { parseChallenges } = await import('../provider/protocol.js')
  return pickChallenge(await parseChallenges(header))
}
