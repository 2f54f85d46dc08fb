/**
 * `WWW-Authenticate` parsing with oauth4webapi, loaded on first need (a challenge to read).
 *
 * @module
 */
import * as oauth from 'oauth4webapi'

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
