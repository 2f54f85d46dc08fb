/**
 * The synchronous half of `loginWithPopup()`: checks the options and opens the window in the
 * caller's gesture (popup blockers allow a window only there), before the code that runs the
 * sign-in is loaded.
 *
 * @module
 */
import { OAuthError } from '../errors.js'
import type { LoginOptions, PopupLoginOptions } from '../types.js'

/** Default of `timeoutSeconds`. */
export const POPUP_TIMEOUT_SECONDS = 120

/** A popup window opened in the caller's gesture, with the checked options of its sign-in. */
export interface OpenedPopup {
  win: Window
  login: LoginOptions
  timeoutMs: number
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

/**
 * Checks the options and opens the window, synchronously. Throws `configuration_error` for bad
 * options and `popup_blocked` when the browser gave no window (nothing is stored).
 */
export function openPopup(options: unknown): OpenedPopup {
  const { login, timeoutMs } = checkOptions(options)
  const win = openWindow()
  if (!win || win.closed) throw new OAuthError('popup_blocked', 'loginWithPopup: the browser blocked the popup; call it in a click handler')
  return { win, login, timeoutMs }
}
