/**
 * Applies an issuer template (`issuerTemplate`, see `issuer-template.ts`) to the discovered
 * metadata through oauth4webapi; loaded with the protocol code, not at start.
 *
 * @module
 */
import * as oauth from 'oauth4webapi'
import { OAuthError } from '../errors.js'
import { PLACEHOLDER } from './issuer-template.js'

/** Entra tenant ids are GUIDs. */
const TENANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/** The URL discovery's `issuer` must equal (the template itself, `{` and `}` percent-encoded as URL parsing does). */
export function templateUrl(template: string): URL {
  return new URL(template)
}

/** The issuer an ID token with these claims must carry, or `undefined` when its `tid` is not a tenant id. */
export function expectedIssuer(template: string, claims: Record<string, unknown>): string | undefined {
  const tid = claims['tid']
  return typeof tid === 'string' && TENANT_ID.test(tid) ? template.replace(PLACEHOLDER, tid) : undefined
}

/**
 * oauth4webapi's hook for the expected `iss` of a JWT (its internal `_expectedIssuer` symbol, the
 * one openid-client uses for the same purpose). Missing in the installed version: fail closed.
 */
function hook(): symbol {
  const symbol = (oauth as unknown as Record<string, unknown>)['_expectedIssuer']
  if (typeof symbol !== 'symbol') {
    throw new OAuthError('configuration_error', 'oauth-spa: "issuerTemplate" needs an oauth4webapi that can check a templated issuer (3.x with _expectedIssuer)')
  }
  return symbol
}

/**
 * The metadata with the template rule attached: oauth4webapi then expects, for each ID token, the
 * template filled with that token's `tid`. A token without a GUID `tid` is refused
 * (`invalid_token_response`): its issuer cannot be checked.
 */
export function withIssuerTemplate(as: oauth.AuthorizationServer, template: string): oauth.AuthorizationServer {
  const rule = (result: { claims: Record<string, unknown> }): string => {
    const expected = expectedIssuer(template, result.claims)
    if (expected === undefined) {
      throw new OAuthError('invalid_token_response', 'ID token: no "tid" tenant id to check "iss" against the issuer template; the token was refused')
    }
    return expected
  }
  return Object.assign({ ...as }, { [hook()]: rule })
}
