/**
 * A small typed event emitter. A throwing listener never breaks the SDK or other listeners.
 *
 * @module
 */
import { OAuthError } from '../errors.js'
import type { OAuthEvent, OAuthEventMap } from '../types.js'

const EVENTS: readonly OAuthEvent[] = ['login', 'logout', 'token_refreshed', 'session_expired', 'storage_fallback', 'error']

/** `listener`, checked to be a function: a typo must fail where it is made, not at the next change. */
export function checkListener<F>(listener: F, method: string): F {
  if (typeof listener !== 'function') throw new OAuthError('configuration_error', `${method}: the listener must be a function`)
  return listener
}

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
      if (!EVENTS.includes(event)) {
        throw new OAuthError('configuration_error', `on: unknown event ${JSON.stringify(event)}; one of ${EVENTS.join(', ')}`)
      }
      checkListener(listener, 'on')
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
