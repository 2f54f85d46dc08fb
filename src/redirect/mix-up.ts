/**
 * RFC 9700 §4.4 mix-up defence for clients that share a redirect URI. Two clients with different
 * issuers on one redirect URI, and an honest provider that sends no `iss`: a malicious provider
 * sends the victim to the honest one with its own client's `state` and code challenge, and the
 * honest provider's code comes back to the malicious client, which would post it (with the
 * matching verifier) to the attacker's token endpoint. So where clients of different issuers share
 * the redirect URI in this page (or with `requireIss`), a callback must carry RFC 9207 `iss`,
 * whatever the metadata says; oauth4webapi then checks it against the client's issuer.
 *
 * @module
 */
import type * as oauth from 'oauth4webapi'
import type { Config } from '../config.js'
import { OAuthError } from '../errors.js'
import type { RedirectIssuers } from './redirect-issuers.js'

/** Checks a callback's `iss` where mix-up is possible; returns the metadata to validate the response with. */
export type MixUpGuard = (url: URL, as: oauth.AuthorizationServer) => oauth.AuthorizationServer

/**
 * The check of a callback for a registered client (`redirect-issuers.ts`: registered when each
 * client was created): it throws `invalid_callback` when `iss` is required and missing, and returns
 * the metadata to validate the response with (announcing `iss` where it is required).
 */
export function guardMixUp(config: Config, { issuer, sharing }: RedirectIssuers): MixUpGuard {
  return (url, as) => {
    const shared = [...sharing].some((other) => other !== issuer)
    if (!config.requireIss && !shared) return as
    if (!url.searchParams.has('iss')) {
      throw new OAuthError(
        'invalid_callback',
        shared
          ? 'callback: the response has no "iss" (RFC 9207), which is required where clients of different issuers share the redirect URI (RFC 9700 §4.4 mix-up)'
          : 'callback: the response has no "iss" (RFC 9207), which requireIss demands',
      )
    }
    return { ...as, authorization_response_iss_parameter_supported: true }
  }
}
