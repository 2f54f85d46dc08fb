/**
 * Recognising a callback without handling it: what `isRedirectCallback()` answers synchronously,
 * and what the page needs at start to hold its status at `loading`, before the code that handles
 * callbacks is loaded.
 *
 * @module
 */
import type { Config } from '../config.js'
import { createStateIndex } from './state-index.js'

/** Whether a URL is a callback of this client. */
export interface CallbackDetector {
  /** The URL's `state` when it is a callback for a pending sign-in of this client (in any tab). */
  pendingState(url?: string): string | undefined
  /** Whether the callback's state is a pending sign-in of this client (not another client's on the same redirect URI). */
  owns(url?: string): Promise<boolean>
}

/** The page's address, outside a browser `undefined`. */
export function currentHref(): string | undefined {
  return typeof location === 'undefined' ? undefined : location.href
}

/** `url` (default: the page's address) parsed against the page's address, or `undefined`. */
export function parseUrl(url: string | undefined): URL | undefined {
  const href = url ?? currentHref()
  if (href === undefined) return undefined
  try {
    return new URL(href, currentHref())
  } catch {
    return undefined
  }
}

/** Same origin and path. */
export function samePath(a: URL, b: URL): boolean {
  return a.origin === b.origin && a.pathname === b.pathname
}

/** `value` as a normalised absolute URL, or `undefined` when it is not one. */
function absoluteHref(value: string): string | undefined {
  try {
    return new URL(value).href
  } catch {
    return undefined
  }
}

/**
 * Creates the detector of a client. `has` tells whether a transaction is pending in the store (the
 * transaction store loads with the flows).
 */
export function createCallbackDetector(config: Config, has: (state: string) => Promise<boolean>): CallbackDetector {
  const index = createStateIndex(config.namespace)
  const redirect = new URL(config.redirectUri)
  const issuer = new URL(config.issuer).href
  return {
    pendingState(url) {
      const parsed = parseUrl(url)
      if (!parsed || !samePath(parsed, redirect)) return undefined
      const q = parsed.searchParams
      // The redirect URI's own query, and the issuer when the response names one (RFC 9207),
      // tell apart clients that share a path.
      for (const [k, v] of redirect.searchParams) if (q.get(k) !== v) return undefined
      // Compared as URLs: an issuer configured with a trailing slash is the same issuer (so says
      // discovery, through oauth4webapi); handleRedirectCallback then checks `iss` exactly.
      const iss = q.get('iss')
      if (iss !== null && absoluteHref(iss) !== issuer) return undefined
      const state = q.get('state')
      if (!state || !(q.has('code') || q.has('error'))) return undefined
      // A pending sign-in of this client (in any tab). Where the browser offers no web storage to
      // tell, the shape alone decides (handleRedirectCallback checks).
      return index.knows(state) !== false ? state : undefined
    },
    async owns(url) {
      const state = parseUrl(url)?.searchParams.get('state')
      return !!state && (await has(state).catch(() => false))
    },
  }
}

/** The sessionStorage key of this tab's pending logout (its `state`, checked on return). */
export function logoutPendingKey(namespace: string): string {
  return `oauth-spa:${namespace}:logout`
}
