/**
 * The cross-tab channel: a `BroadcastChannel` per client namespace. Messages carry no token,
 * only what changed; the receiving tab re-reads the store.
 *
 * @module
 */

/** A message between tabs of the same origin. */
export type TabMessage =
  | { type: 'login' }
  | { type: 'refreshed' }
  | { type: 'logout' }
  | { type: 'expired' }

/** The channel of one client namespace. */
export interface TabChannel {
  post(message: TabMessage): void
  onMessage(listener: (message: TabMessage) => void): void
}

const TYPES = new Set(['login', 'refreshed', 'logout', 'expired'])

/**
 * Opens the channel, or a silent stand-in where `BroadcastChannel` is missing or there are no tabs
 * (server rendering: an open channel would keep a Node process alive).
 */
export function openTabChannel(namespace: string): TabChannel {
  if (typeof BroadcastChannel === 'undefined' || typeof window === 'undefined') return { post() {}, onMessage() {} }
  let channel: BroadcastChannel | undefined
  const listeners: ((message: TabMessage) => void)[] = []
  // Opened lazily: a client that never signs in never holds a channel.
  const open = () => {
    if (channel) return channel
    channel = new BroadcastChannel(`oauth-spa:${namespace}`)
    channel.onmessage = (event: MessageEvent<unknown>) => {
      const data = event.data as { type?: unknown } | null
      if (!data || typeof data.type !== 'string' || !TYPES.has(data.type)) return
      for (const l of listeners) l({ type: data.type } as TabMessage)
    }
    return channel
  }
  return {
    post(message) {
      open().postMessage({ type: message.type })
    },
    onMessage(listener) {
      listeners.push(listener)
      open()
    },
  }
}
