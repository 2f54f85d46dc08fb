/**
 * The provider as oauth4webapi sees it: discovery (cached for the page's life), the client
 * metadata (signing algorithms pinned, `none` excluded), and the options every request carries
 * (timeout signal, the development-only http switch).
 *
 * @module
 */
import * as oauth from 'oauth4webapi'
import type { Config } from '../config.js'
import { OAuthError } from '../errors.js'
import { toOAuthError } from './errors.js'
import type { MetadataOverride } from '../types.js'
import { templateUrl, withIssuerTemplate } from './templated-issuer.js'

/** What every part needs to talk to the provider. */
export interface Provider {
  /** The discovered metadata (one request per page, retried after a failure). */
  metadata(): Promise<oauth.AuthorizationServer>
  /** The metadata as the provider sent it (before the app's override), once discovered: kept with a sign-in's transaction. */
  discovered(): oauth.AuthorizationServer | undefined
  /**
   * Uses metadata discovered earlier (by the page that started the sign-in) instead of a discovery
   * request, when nothing is cached yet and it names this client's issuer; anything else is ignored.
   */
  adopt(discovered: unknown): void
  /** The client metadata for oauth4webapi, with the ID token algorithms pinned. */
  client(as: oauth.AuthorizationServer): oauth.Client
  /** Options for an oauth4webapi request: a fresh timeout signal each time, and `allowInsecureRequests`. */
  requestOptions(): { signal: () => AbortSignal; [oauth.allowInsecureRequests]?: boolean }
  /**
   * A metadata endpoint the browser itself is sent to (authorization, end-session), as a URL, when
   * it is one the page may navigate to: `https:` (or `http:` with `allowInsecureRequests`). Never a
   * `javascript:` or `data:` URL from a tampered discovery document. oauth4webapi checks the
   * endpoints it sends requests to itself.
   */
  navigable(endpoint: unknown): URL | undefined
}

/** An absolute URL, or `undefined`. */
function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value)
  } catch {
    return undefined
  }
}

/** Signing algorithms a public client may accept for ID tokens: asymmetric only, never `none`. */
const ASYMMETRIC = /^(RS|PS|ES)(256|384|512)$|^EdDSA$|^Ed25519$|^ES256K$/

/** Creates the provider access for a configuration. */
export function createProvider(config: Config): Provider {
  let cached: Promise<oauth.AuthorizationServer> | undefined
  let raw: oauth.AuthorizationServer | undefined
  const issuer = new URL(config.issuer)
  const expected = config.issuerTemplate === undefined ? issuer : templateUrl(config.issuerTemplate)

  const requestOptions = () => {
    const options: { signal: () => AbortSignal; [oauth.allowInsecureRequests]?: boolean } = {
      signal: () => AbortSignal.timeout(config.requestTimeoutMs),
    }
    if (config.allowInsecureRequests) options[oauth.allowInsecureRequests] = true
    return options
  }

  async function discover(): Promise<oauth.AuthorizationServer> {
    try {
      const res = await oauth.discoveryRequest(issuer, { ...requestOptions(), algorithm: 'oidc' })
      // With an issuer template (Entra multi-tenant), discovery must name exactly the template.
      return await oauth.processDiscoveryResponse(expected, res)
    } catch (e) {
      // No OpenID configuration: try RFC 8414 metadata. An issuer mismatch is not retried.
      const notFound = e instanceof oauth.OperationProcessingError && e.code === oauth.RESPONSE_IS_NOT_CONFORM
      if (!notFound) throw e
      const res = await oauth.discoveryRequest(issuer, { ...requestOptions(), algorithm: 'oauth2' })
      return await oauth.processDiscoveryResponse(expected, res)
    }
  }

  /** The metadata the client uses: the app's override merged over discovery, then the issuer-template rule, if any. */
  function finish(discovered: oauth.AuthorizationServer): oauth.AuthorizationServer {
    const merged = applyMetadataOverride(discovered, config.metadata)
    const as = config.issuerTemplate === undefined ? merged : withIssuerTemplate(merged, config.issuerTemplate)
    const methods = as.code_challenge_methods_supported
    if (Array.isArray(methods) && !methods.includes('S256')) {
      throw new OAuthError('configuration_error', 'oauth-spa: the provider does not support PKCE S256 (code_challenge_methods_supported); plain PKCE is never used.')
    }
    return as
  }

  function settle(metadata: Promise<oauth.AuthorizationServer>): Promise<oauth.AuthorizationServer> {
    cached = metadata
    cached.catch(() => (cached = undefined))
    return cached
  }

  return {
    metadata() {
      if (cached) return cached
      return settle(
        discover().then(
          (discovered) => finish((raw = discovered)),
          (e: unknown) => {
            throw toOAuthError(e, 'discovery', 'configuration_error')
          },
        ),
      )
    },
    discovered: () => raw,
    adopt(discovered) {
      // The same issuer check as a discovery response's (RFC 8414 §3.3): metadata of another issuer is never used.
      if (cached || typeof discovered !== 'object' || discovered === null) return
      const issuer = (discovered as { issuer?: unknown }).issuer
      if (typeof issuer !== 'string' || parseUrl(issuer)?.href !== expected.href) return
      const as = discovered as oauth.AuthorizationServer
      void settle(Promise.resolve(as).then((d) => finish((raw = d)))).catch(() => undefined)
    },
    client(as) {
      const advertised = as.id_token_signing_alg_values_supported
      const algs = Array.isArray(advertised) ? advertised.filter((a) => ASYMMETRIC.test(a)) : ['RS256']
      return {
        client_id: config.clientId,
        token_endpoint_auth_method: 'none',
        // oauth4webapi accepts a list at run time; a list excludes `none` even where the metadata lists it.
        id_token_signed_response_alg: (algs.length > 0 ? algs : ['RS256']) as unknown as string,
        [oauth.clockTolerance]: config.clockToleranceSeconds,
      }
    },
    requestOptions,
    navigable(endpoint) {
      const url = typeof endpoint === 'string' ? parseUrl(endpoint) : undefined
      return url && (url.protocol === 'https:' || (config.allowInsecureRequests && url.protocol === 'http:')) ? url : undefined
    },
  }
}

/** The discovered metadata with the override merged over it (`null` removes a field). */
export function applyMetadataOverride(as: oauth.AuthorizationServer, override: MetadataOverride | undefined): oauth.AuthorizationServer {
  if (!override) return as
  const merged: Record<string, unknown> = { ...as }
  for (const [key, v] of Object.entries(override)) {
    if (v === null) delete merged[key]
    else merged[key] = v
  }
  return merged as oauth.AuthorizationServer
}
