/**
 * The issuers of this page's clients, by redirect URI: every client registers when it is created,
 * before any callback is handled, so that the mix-up check (`mix-up.ts`, loaded with the callback
 * code) knows which clients share its redirect URI (RFC 9700 §4.4).
 *
 * @module
 */
import type { Config } from '../config.js'

/** A registered client: its issuer as the registry holds it, and every issuer on its redirect URI. */
export interface RedirectIssuers {
  /** This client's issuer (normalised as a URL). */
  readonly issuer: string
  /** The issuers of the page's clients on this redirect URI, this one's included (a live set). */
  readonly sharing: ReadonlySet<string>
}

/** The registry's key on `globalThis`: shared by every bundle of the SDK in the page. */
const REGISTRY = Symbol.for('oauth-spa.redirect-issuers')

/**
 * Records that the client of `config` uses its redirect URI (origin and path); the returned set
 * lives on: clients created later join it.
 */
export function registerRedirectIssuer(config: Config): RedirectIssuers {
  const issuer = new URL(config.issuer).href
  const redirect = new URL(config.redirectUri)
  const realm = globalThis as unknown as Record<symbol, Map<string, Set<string>> | undefined>
  const registry = (realm[REGISTRY] ??= new Map())
  const key = redirect.origin + redirect.pathname
  let sharing = registry.get(key)
  if (!sharing) registry.set(key, (sharing = new Set()))
  sharing.add(issuer)
  return { issuer, sharing }
}
