/**
 * Silent renewal: a `prompt=none` sign-in in a hidden iframe at `silentRedirectUri`, for a session
 * whose refresh token is gone or refused. It completes through the same callback code as every
 * sign-in: the iframe's page relays its callback (see `relay.ts`), and where that page runs no
 * oauth-spa code (a blank `silentRedirectUri`), this page reads the iframe's address once it is
 * back on the app's origin. The sign-in is handed back, not stored: the session decides (same
 * user or not) and stores it under its refresh lock.
 *
 * It works only where the provider's cookies reach the iframe: a provider on the same site as the
 * app, or a browser that still sends third-party cookies. Elsewhere the provider answers
 * `login_required`, and a top-level `login({ prompt: 'none' })` is the fallback.
 *
 * @module
 */
import type { Config } from '../config.js'
import { OAuthError } from '../errors.js'
import type { SignIn } from '../session/session.js'
import type { SessionRecord } from '../store/records.js'
import type { LoginOptions, RedirectResult } from '../types.js'
import type { PreparedLogin, PrepareOptions } from './authorize.js'
import type { Relay } from './relay.js'

/** What silent renewal needs from the client. */
export interface SilentDeps {
  config: Config
  prepare(options: LoginOptions, internal: PrepareOptions): Promise<PreparedLogin>
  relay: Relay
  /** Validates and redeems the callback without storing the sign-in. */
  exchange(href: string): Promise<{ result: RedirectResult; signIn: SignIn }>
  /** Drops the transaction of a sign-in that will not complete. */
  discard(state: string): Promise<void>
  /** The current session (its scopes and resources are asked for again), if any. */
  current(): SessionRecord | undefined
}

/** Signs in silently; rejects with the reason it could not (`authorization_error` `login_required`, …). */
export type SilentSignIn = (reason?: OAuthError) => Promise<SignIn>

/** Creates the silent sign-in of a client. */
export function createSilentSignIn(deps: SilentDeps): SilentSignIn {
  const { config } = deps
  return async () => {
    if (typeof document === 'undefined' || !document.body) {
      throw new OAuthError('login_required', 'silent renewal needs a browser page')
    }
    const s = deps.current()
    const prepared = await deps.prepare(
      { prompt: 'none', returnTo: '/', ...(s ? { scope: s.scope, resource: s.resources } : {}) },
      { redirectUri: config.silentRedirectUri },
    )
    const { state } = prepared
    const expectation = deps.relay.expect(state, prepared.expiresAt, async (href) => {
      const { result, signIn } = await deps.exchange(href)
      return { reply: result, value: signIn }
    })
    const frame = document.createElement('iframe')
    frame.setAttribute('aria-hidden', 'true')
    frame.tabIndex = -1
    frame.title = 'oauth-spa silent renewal'
    frame.style.cssText = 'position:absolute;width:0;height:0;border:0;visibility:hidden'

    let timer: ReturnType<typeof setTimeout> | undefined
    const failed = new Promise<never>((_resolve, reject) => {
      frame.addEventListener('load', () => {
        let href: string | undefined
        try {
          href = frame.contentWindow?.location.href
        } catch {
          // A page of another origin (or the browser's error page) stayed in the frame: with
          // prompt=none the provider answers by redirecting back at once, so it refused framing
          // (X-Frame-Options, CSP frame-ancestors) or showed a page it should not have.
          reject(new OAuthError('login_required', 'silent renewal: the provider did not answer in the iframe (it refuses framing, or it wants interaction)'))
          return
        }
        if (href && href !== 'about:blank') expectation.deliver(href)
      })
      timer = setTimeout(
        () => reject(new OAuthError('timeout', `silent renewal: no answer from the provider within ${config.requestTimeoutMs / 1000} s`)),
        config.requestTimeoutMs,
      )
    })
    frame.src = prepared.url
    document.body.appendChild(frame)
    try {
      return await Promise.race([expectation.done, failed])
    } catch (e) {
      // The callback came back and is being redeemed: its outcome is the answer.
      if (expectation.cancel()) return await expectation.done
      await deps.discard(state).catch(() => undefined)
      throw e
    } finally {
      clearTimeout(timer)
      frame.remove()
    }
  }
}
