/**
 * Issuer templates: Microsoft Entra ID's multi-tenant endpoints (`common`, `organizations`,
 * `consumers`) publish a discovery document whose issuer is the template
 * `https://login.microsoftonline.com/{tenantid}/v2.0`, and each ID token's `iss` is that template
 * with the user's tenant id (its `tid` claim) in place of `{tenantid}`.
 *
 * The check is never skipped: discovery must name exactly the configured template, and every ID
 * token's `iss` must equal the template filled with the token's own `tid` (a GUID). oauth4webapi
 * compares `iss` itself; `templated-issuer.ts` (loaded with the protocol code) tells it which value
 * to expect. This module only checks the option, when the client is created.
 *
 * @module
 */
import { OAuthError } from '../errors.js'

export const PLACEHOLDER = '{tenantid}'

/**
 * Validates an `issuerTemplate` option against the configured issuer: an absolute URL on the same
 * origin, with `{tenantid}` exactly once.
 *
 * @throws {OAuthError} `configuration_error`
 */
export function checkIssuerTemplate(template: unknown, issuer: string): string | undefined {
  if (template === undefined) return undefined
  const fail = (why: string): never => {
    throw new OAuthError('configuration_error', `oauth-spa: "issuerTemplate" ${why}`)
  }
  if (typeof template !== 'string' || template.split(PLACEHOLDER).length !== 2) fail(`must be a URL string with "${PLACEHOLDER}" exactly once`)
  let url: URL | undefined
  try {
    url = new URL(template as string)
  } catch {
    // reported below
  }
  if (!url) return fail('must be an absolute URL')
  if (url.origin !== new URL(issuer).origin) fail('must be on the same origin as "issuer"')
  return template as string
}
