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
import type { LoginOptions, PopupLoginOptions, RedirectResult } from '../types.js'
import type { PreparedLogin } from './authorize.js'
import type { Relay } from './relay.js'

/** Default of `timeoutSeconds`. */
export const POPUP_TIMEOUT_SECONDS = 120

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

function openWindow(): Window | null {
  if (typeof window === 'undefined' || typeof window.open !== 'function') return null
  const width = 500
  const height = 650
  const left = Math.max(0, Math.round((window.screenX ?? 0) + ((window.outerWidth ?? width) - width) / 2))
  const top = Math.max(0, Math.round((window.screenY ?? 0) + ((window.outerHeight ?? height) - height) / 2))
  const name = `oauth-spa-popup-${Math.random().toString(36).slice(2)}`
  try {
    return window.open('about:blank', name, `popup=yes,width=${width},height=${height},left=${left},top=${top}`)
  } catch {
    return null
  }
}

function checkOptions(options: unknown): { timeoutMs: number; login: LoginOptions } {
  if (options === undefined) return { timeoutMs: POPUP_TIMEOUT_SECONDS * 1000, login: {} }
  if (typeof options !== 'object' || options === null) throw new OAuthError('configuration_error', 'loginWithPopup: options must be an object')
  const { timeoutSeconds = POPUP_TIMEOUT_SECONDS, ...login } = options as PopupLoginOptions
  if (typeof timeoutSeconds !== 'number' || !Number.isFinite(timeoutSeconds) || timeoutSeconds <= 0) {
    throw new OAuthError('configuration_error', 'loginWithPopup: "timeoutSeconds" must be a number of seconds above 0')
  }
  return { timeoutMs: timeoutSeconds * 1000, login }
}

/** Creates `loginWithPopup`. */
export function createPopupLogin(deps: PopupDeps): (options?: PopupLoginOptions) => Promise<RedirectResult> {
  return (options) => {
    let checked: ReturnType<typeof checkOptions>
    try {
      checked = checkOptions(options)
    } catch (e) {
      return Promise.reject(e)
    }
    // Synchronously, in the caller's gesture: nothing is stored before the window exists.
    const win = openWindow()
    if (!win || win.closed) {
      return Promise.reject(new OAuthError('popup_blocked', 'loginWithPopup: the browser blocked the popup; call it in a click handler'))
    }
    return run(deps, win, checked.login, checked.timeoutMs)
  }
}

async function run(deps: PopupDeps, win: Window, login: LoginOptions, timeoutMs: number): Promise<RedirectResult> {
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
