/**
 * `loginWithPopup`: the sign-in runs in a popup window while the page stays. The window opens
 * synchronously, in the caller's click (popup blockers allow nothing else), and is navigated once
 * the authorization request is built. The callback lands on the app's ordinary redirect URI page,
 * whose ordinary `handleRedirectCallback` relays it back here (see `relay.ts`); this page redeems
 * the code with its own transaction. Neither `window.opener` nor `popup.closed` carries the flow: a
 * provider's `Cross-Origin-Opener-Policy: same-origin` severs both.
 *
 * `popup_closed` is reported only where the browser can tell: the window was closed before it left
 * for the provider. From then on `popup.closed` cannot be believed: Chromium reports a window that
 * a provider's COOP page severed as closed (at times only after it was seen open on the provider's
 * page), exactly like one the user closed. A sign-in whose window the user closed on the provider's
 * pages therefore ends with `timeout` (`timeoutSeconds`).
 *
 * @module
 */
import { OAuthError } from '../errors.js'
import type { LoginOptions, RedirectResult } from '../types.js'
import type { PreparedLogin } from './authorize.js'
import type { OpenedPopup } from './popup-window.js'
import type { Relay } from './relay.js'

/** What the popup sign-in needs from the client. */
export interface PopupDeps {
  /** Builds the authorization request and stores its transaction. */
  prepare(options: LoginOptions): Promise<PreparedLogin>
  relay: Relay
  /** Redeems the relayed callback (the client's handleRedirectCallback logic) and signs in. */
  handle(href: string): Promise<RedirectResult>
  /** Drops the transaction of a sign-in that will not complete. */
  discard(state: string): Promise<void>
  /** Resolves when no logout of this page is still wiping the store. */
  idle(): Promise<void>
}

/** Runs the sign-in in a window opened by {@link openPopup}; resolves as a redirect callback does. */
export async function runPopup(deps: PopupDeps, { win, login, timeoutMs }: OpenedPopup): Promise<RedirectResult> {
  const close = () => {
    try {
      win.close()
    } catch {
      // severed or gone
    }
  }
  const closed = () => new OAuthError('popup_closed', 'loginWithPopup: the popup was closed before the sign-in completed')
  let prepared: PreparedLogin
  try {
    await deps.idle()
    prepared = await deps.prepare(login)
  } catch (e) {
    close()
    throw e
  }
  if (win.closed) {
    await deps.discard(prepared.state).catch(() => undefined)
    throw closed()
  }
  const expectation = deps.relay.expect(prepared.state, prepared.expiresAt, async (href) => {
    const result = await deps.handle(href)
    return { reply: result, value: result }
  })

  let timer: ReturnType<typeof setTimeout> | undefined
  const watch = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new OAuthError('timeout', `loginWithPopup: the sign-in did not complete within ${timeoutMs / 1000} s`)), timeoutMs)
  })
  try {
    win.location.replace(prepared.url)
  } catch (e) {
    expectation.cancel()
    await deps.discard(prepared.state).catch(() => undefined)
    close()
    throw new OAuthError('popup_closed', 'loginWithPopup: the popup could not be navigated', { cause: e instanceof Error ? { name: e.name, message: e.message } : undefined })
  }
  try {
    return await Promise.race([expectation.done, watch])
  } catch (e) {
    // The callback came back and is being redeemed: its outcome is the answer.
    if (expectation.cancel()) return await expectation.done
    // Not redeemed (closed, timed out): the transaction is of no use; a callback that comes later
    // finds nothing and is refused as unknown.
    await deps.discard(prepared.state).catch(() => undefined)
    throw e
  } finally {
    clearTimeout(timer)
    close()
  }
}
