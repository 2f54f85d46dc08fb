/**
 * Loading on first need: the parts of the client that a signed-in page may never use (sign-in,
 * refresh, DPoP, logout) are separate chunks, loaded by `import()` the first time they are needed.
 *
 * @module
 */
import { OAuthError } from './errors.js'
import { redact } from './provider/redact.js'

/**
 * Memoises `load`. A failed load (offline, a deployment that removed the chunk) rejects with
 * `network_error`, loses nothing, and is tried again on the next call (Chromium and WebKit fetch
 * the chunk again; Firefox keeps the failed module until the page is reloaded).
 */
export function once<T>(load: () => Promise<T>): () => Promise<T> {
  let loading: Promise<T> | undefined
  return () =>
    (loading ??= load().catch((e: unknown) => {
      loading = undefined
      throw e instanceof OAuthError ? e : new OAuthError('network_error', 'oauth-spa: a part of the SDK could not be loaded (offline, or removed by a new deployment?); nothing was lost: try again (in Firefox, after reloading the page)', { cause: redact(e) })
    }))
}
