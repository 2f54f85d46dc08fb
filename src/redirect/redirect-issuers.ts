/**
 * The issuers of this page's clients, by redirect URI: every client registers when it is created,
 * before any callback is handled, so that the mix-up check (`mix-up.ts`, loaded with the callback
 * code) knows which clients share its redirect URI (RFC 9700 §4.4).
 *
 * @module
 */

/** The registry's key on `globalThis`: shared by every bundle of the SDK in the page. */
const REGISTRY = Symbol.for('oauth-spa.redirect-issuers')

/**
 * Records that a client of `issuer` uses `redirect` and returns the live set of every issuer on it
 * (clients created later join it).
 */
export function registerRedirectIssuer(redirect: URL, issuer: string): ReadonlySet<string> {
  const realm = globalThis as unknown as Record<symbol, Map<string, Set<string>> | undefined>
  const registry = (realm[REGISTRY] ??= new Map())
  const key = redirect.origin + redirect.pathname
  let issuers = registry.get(key)
  if (!issuers) registry.set(key, (issuers = new Set()))
  issuers.add(issuer)
  return issuers
}
