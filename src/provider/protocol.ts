/**
 * The protocol part of the client that is loaded on first need (a refresh, a DPoP proof, a
 * challenge to read, a sign-in): everything here uses oauth4webapi, which the always-loaded part
 * never imports. One module, so that bundlers make one chunk of it (plus oauth4webapi).
 *
 * @module
 */
import * as oauth from 'oauth4webapi'

export { createDpopKeys } from '../dpop/keys.js'
export { parseChallenges, pickChallenge } from '../fetch/challenge-parse.js'
export { createStepUp } from '../fetch/step-up.js'
// Bundled here: a refresh needs both (see session.ts, which imports it on first need).
export { createRefresher } from '../session/refresh.js'
export { refreshTokens } from './grants.js'
export { createProvider } from './provider.js'

/** What a request to an API brought back; `challenges` when it carried a `WWW-Authenticate` challenge. */
export interface ResourceOutcome {
  response: Response
  challenges?: oauth.WWWAuthenticateChallenge[]
}

/**
 * A DPoP-bound request to an API through oauth4webapi (proof, `DPoP` authorization, nonce cache),
 * sent with `redirect: "manual"`.
 */
export async function dpopResourceRequest(
  token: string,
  method: string,
  url: URL,
  headers: Headers,
  body: ArrayBuffer | ReadableStream | null,
  options: { dpop: oauth.DPoPHandle; signal: AbortSignal; allowInsecure: boolean; fetch: (url: string, init: RequestInit) => Promise<Response> },
): Promise<ResourceOutcome> {
  const requestOptions: oauth.ProtectedResourceRequestOptions = {
    DPoP: options.dpop,
    signal: options.signal,
    [oauth.customFetch]: (u, o) => options.fetch(u, o as RequestInit),
  }
  if (options.allowInsecure) requestOptions[oauth.allowInsecureRequests] = true
  try {
    return { response: await oauth.protectedResourceRequest(token, method, url, headers, body, requestOptions) }
  } catch (e) {
    if (e instanceof oauth.WWWAuthenticateChallengeError) return { response: e.response, challenges: e.cause }
    throw e
  }
}
