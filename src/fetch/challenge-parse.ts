/**
 * `WWW-Authenticate` parsing with oauth4webapi, and the choice of the challenge that matters,
 * loaded on first need (a challenge to read).
 *
 * @module
 */
import * as oauth from 'oauth4webapi'
import type { Challenge } from './challenge.js'

/** Parses a `WWW-Authenticate` header value with oauth4webapi. */
export async function parseChallenges(header: string): Promise<oauth.WWWAuthenticateChallenge[] | undefined> {
  // oauth4webapi parses challenges (only) while it processes a response, before anything else: a
  // header-only 401 carries the value, so the caller's response and its body are never read.
  const probe = new Response(null, { status: 401, headers: { 'www-authenticate': header } })
  try {
    await oauth.processUserInfoResponse({ issuer: 'urn:oauth-spa:challenge' }, { client_id: 'oauth-spa' }, oauth.skipSubjectCheck, probe)
  } catch (e) {
    if (e instanceof oauth.WWWAuthenticateChallengeError) return e.cause
  }
  return undefined
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
