/**
 * `returnTo` is only ever a same-origin path: no open redirect (RFC 9700 §4.11.1).
 *
 * @module
 */

/**
 * Returns `value` as a same-origin path (`/path?query#hash`), or `undefined` when it points
 * anywhere else (another origin, `//host`, `/\host`, `javascript:`, …).
 */
export function sameOriginPath(value: unknown, origin: string): string | undefined {
  if (typeof value !== 'string' || value === '') return undefined
  // Backslashes and control characters are folded by URL parsers into surprising hosts; refuse them.
  // eslint-disable-next-line no-control-regex
  if (/[\\\u0000-\u001f\u007f]/.test(value)) return undefined
  // A scheme without an authority ("https:evil", "javascript:…") is never a plain path.
  if (/^[a-z][a-z0-9+.-]*:(?!\/\/)/i.test(value)) return undefined
  let url: URL
  try {
    url = new URL(value, origin)
  } catch {
    return undefined
  }
  if (url.origin !== origin) return undefined
  if (!url.pathname.startsWith('/') || url.pathname.startsWith('//')) return undefined
  return `${url.pathname}${url.search}${url.hash}`
}

/** The current page's path, or `/` outside a browser. */
export function currentPath(): string {
  if (typeof location === 'undefined') return '/'
  return `${location.pathname}${location.search}${location.hash}`
}

/** The page's origin, or `undefined` outside a browser. */
export function currentOrigin(): string | undefined {
  return typeof location === 'undefined' ? undefined : location.origin
}
