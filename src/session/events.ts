/**
 * A small typed event emitter. A throwing listener never breaks the SDK or other listeners.
 *
 * @module
 */
import type { OAuthEvent, OAuthEventMap } from '../types.js'

/** Emitter of the client's events. */
export interface Emitter {
  on<E extends OAuthEvent>(event: E, listener: (payload: OAuthEventMap[E]) => void): () => void
  emit<E extends OAuthEvent>(event: E, payload: OAuthEventMap[E]): void
}

/** Creates an emitter. */
export function createEmitter(): Emitter {
  const listeners = new Map<OAuthEvent, Set<(payload: never) => void>>()
  return {
    on(event, listener) {
      let set = listeners.get(event)
      if (!set) listeners.set(event, (set = new Set()))
      const fn = listener as (payload: never) => void
      set.add(fn)
      return () => void set.delete(fn)
    },
    emit(event, payload) {
      for (const fn of [...(listeners.get(event) ?? [])]) {
        try {
          ;(fn as (p: typeof payload) => void)(payload)
        } catch (e) {
          // Report, but keep going: an app's listener must not break sign-in or refresh.
          queueMicrotask(() => {
            throw e
          })
        }
      }
    },
  }
}
