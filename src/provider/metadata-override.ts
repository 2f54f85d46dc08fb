/**
 * Provider metadata the app states explicitly, merged over the discovered document: endpoints a
 * provider documents but does not advertise (Amazon Cognito's `/logout`, Auth0's `/v2/logout`
 * when the tenant does not publish `end_session_endpoint`), or that it advertises but a public
 * client must not use. Only these fields may be overridden: the issuer, the authorization, token
 * and JWKS endpoints always come from discovery.
 *
 * @module
 */
import { OAuthError } from '../errors.js'
import type { MetadataOverride } from '../types.js'

/** Fields of the provider metadata that {@link MetadataOverride} may set or remove. */
export const OVERRIDABLE = ['end_session_endpoint', 'revocation_endpoint', 'scopes_supported'] as const

function fail(message: string): never {
  throw new OAuthError('configuration_error', `oauth-spa: "metadata" ${message}`)
}

/**
 * Validates a `metadata` option: only {@link OVERRIDABLE} keys; endpoints are absolute https URLs
 * (http with `allowInsecureRequests`) or `null` (the endpoint is taken away); `scopes_supported`
 * is an array of strings or `null`.
 *
 * @throws {OAuthError} `configuration_error`
 */
export function checkMetadataOverride(value: unknown, allowInsecure: boolean): MetadataOverride | undefined {
  if (value === undefined) return undefined
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail('must be an object')
  const out: Record<string, unknown> = {}
  for (const [key, v] of Object.entries(value)) {
    if (!(OVERRIDABLE as readonly string[]).includes(key)) {
      fail(`cannot set "${key}"; only ${OVERRIDABLE.join(', ')} (the issuer, authorization, token and JWKS endpoints always come from discovery)`)
    }
    if (v === null) {
      out[key] = null
    } else if (key === 'scopes_supported') {
      if (!Array.isArray(v) || !v.every((s) => typeof s === 'string' && s !== '')) fail('"scopes_supported" must be an array of scope strings or null')
      out[key] = Object.freeze([...(v as string[])])
    } else {
      let url: URL | undefined
      try {
        url = new URL(v as string)
      } catch {
        // reported below
      }
      if (typeof v !== 'string' || !url || !(url.protocol === 'https:' || (allowInsecure && url.protocol === 'http:'))) {
        fail(`"${key}" must be an https:// URL or null`)
      }
      out[key] = v
    }
  }
  return Object.freeze(out) as MetadataOverride
}
