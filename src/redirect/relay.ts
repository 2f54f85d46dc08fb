/**
 * Hands a callback from the window where it landed (a popup, a silent-renewal iframe) to the page
 * that started the sign-in, over a same-origin `BroadcastChannel`. No `window.opener`, no
 * `postMessage` to another window, no `popup.closed`: a provider's `Cross-Origin-Opener-Policy`
 * severs those, a channel of the app's origin survives it.
 *
 * The page that starts a popup or silent sign-in marks its `state` (in localStorage, keyed by the
 * client namespace; a state is no secret, no token is kept) and listens. The callback page's
 * ordinary `handleRedirectCallback` sees the mark, sends the callback URL, and the starting page
 * acknowledges it, redeems the code with its own transaction and sends the outcome back. Without an
 * acknowledgement (the starting page is gone) the callback page handles the callback itself, as a
 * plain redirect sign-in.
 *
 * @module
 */
import { OAuthError, type OAuthErrorCode } from '../errors.js'
import { redact } from '../provider/redact.js'
import { withWebStorage } from '../store/web-storage.js'
import type { RedirectResult } from '../types.js'

/** How long a callback page waits for the starting page to acknowledge its callback. */
export const ACK_TIMEOUT_MS = 3000
/** How long a callback page waits for the outcome once acknowledged. */
export const OUTCOME_TIMEOUT_MS = 60_000

interface ErrorShape {
  code: OAuthErrorCode
  message: string
  error?: string
  errorDescription?: string
  status?: number
}

type Message =
  | { t: 'cb'; state: string; href: string }
  | { t: 'ack'; state: string }
  | { t: 'res'; state: string; ok: true; result: RedirectResult }
  | { t: 'res'; state: string; ok: false; error: ErrorShape }

/** What the starting page waits for. */
export interface Expectation<T> {
  /** Settles with the handler's value (or its error) once the callback came back. */
  readonly done: Promise<T>
  /** Hands over a callback URL seen some other way (the iframe's address). */
  deliver(href: string): void
  /** Stops listening. Returns whether the callback is already being handled. */
  cancel(): boolean
}

/** The relay of one client namespace. */
export interface Relay {
  /**
   * The starting page's side: marks `state` until `expiresAt` and hands its callback to `handle`,
   * whose `reply` goes back to the callback page.
   */
  expect<T>(state: string, expiresAt: number, handle: (href: string) => Promise<{ reply: RedirectResult; value: T }>): Expectation<T>
  /**
   * The callback page's side: for a marked state, sends the callback to the starting page and
   * settles with the outcome it sends back; `undefined` (at once, or when nobody acknowledged)
   * when the callback is to be handled here.
   */
  forward(href: string): Promise<RedirectResult | undefined> | undefined
}

function toShape(e: unknown): ErrorShape {
  const error = e instanceof OAuthError ? e : new OAuthError('invalid_callback', 'callback failed', { cause: redact(e) })
  return {
    code: error.code,
    message: error.message,
    ...(error.error === undefined ? {} : { error: error.error }),
    ...(error.errorDescription === undefined ? {} : { errorDescription: error.errorDescription }),
    ...(error.status === undefined ? {} : { status: error.status }),
  }
}

function fromShape(shape: ErrorShape): OAuthError {
  const { code, message, ...details } = shape
  return new OAuthError(code, message, details)
}

function stateOf(href: string): string | undefined {
  try {
    const states = new URL(href).searchParams.getAll('state')
    return states.length === 1 && states[0] ? states[0] : undefined
  } catch {
    return undefined
  }
}

function isMessage(data: unknown, state: string): data is Message {
  return typeof data === 'object' && data !== null && (data as { state?: unknown }).state === state
}

/** Creates the relay of `namespace`. */
export function createRelay(namespace: string): Relay {
  const channelName = `oauth-spa:${namespace}:relay`
  const markKey = (state: string) => `oauth-spa:${namespace}:relay:${state}`
  const open = () => (typeof BroadcastChannel === 'undefined' ? undefined : new BroadcastChannel(channelName))
  const marked = (state: string) => withWebStorage('localStorage', (local) => Number(local.getItem(markKey(state))) > Date.now()) === true

  return {
    expect(state, expiresAt, handle) {
      withWebStorage('localStorage', (local) => local.setItem(markKey(state), String(expiresAt)))
      const channel = open()
      let running: Promise<void> | undefined
      let outcome: Message | undefined
      let resolve!: (value: Awaited<ReturnType<typeof handle>>['value']) => void
      let reject!: (e: unknown) => void
      const done = new Promise<Awaited<ReturnType<typeof handle>>['value']>((res, rej) => {
        resolve = res
        reject = rej
      })
      const unmark = () => withWebStorage('localStorage', (local) => local.removeItem(markKey(state)))
      const start = (href: string) => {
        if (running) return
        running = handle(href).then(
          ({ reply, value }) => {
            outcome = { t: 'res', state, ok: true, result: reply }
            channel?.postMessage(outcome)
            resolve(value)
          },
          (e: unknown) => {
            outcome = { t: 'res', state, ok: false, error: toShape(e) }
            channel?.postMessage(outcome)
            reject(e)
          },
        )
        // A callback page that asks after the outcome was sent gets it again for a few seconds.
        void running.finally(() => {
          unmark()
          setTimeout(() => channel?.close(), ACK_TIMEOUT_MS)
        })
      }
      if (channel) {
        channel.onmessage = (event: MessageEvent<unknown>) => {
          const m = event.data
          if (!isMessage(m, state) || m.t !== 'cb' || typeof m.href !== 'string' || stateOf(m.href) !== state) return
          channel.postMessage({ t: 'ack', state } satisfies Message)
          if (outcome) channel.postMessage(outcome)
          start(m.href)
        }
      }
      return {
        done,
        deliver: (href) => {
          if (stateOf(href) === state) start(href)
        },
        cancel() {
          if (running) return true
          unmark()
          channel?.close()
          return false
        },
      }
    },

    forward(href) {
      const state = stateOf(href)
      if (state === undefined || !marked(state)) return undefined
      const channel = open()
      if (!channel) return undefined
      return new Promise<RedirectResult | undefined>((resolve, reject) => {
        let timer = setTimeout(() => finish(() => resolve(undefined)), ACK_TIMEOUT_MS)
        const finish = (settle: () => void) => {
          clearTimeout(timer)
          channel.close()
          settle()
        }
        channel.onmessage = (event: MessageEvent<unknown>) => {
          const m = event.data
          if (!isMessage(m, state)) return
          if (m.t === 'ack') {
            clearTimeout(timer)
            timer = setTimeout(
              () => finish(() => reject(new OAuthError('timeout', 'callback: the page that started this sign-in did not finish it'))),
              OUTCOME_TIMEOUT_MS,
            )
          } else if (m.t === 'res') {
            finish(() => (m.ok ? resolve(m.result) : reject(fromShape(m.error))))
          }
        }
        channel.postMessage({ t: 'cb', state, href } satisfies Message)
      })
    },
  }
}
