/**
 * Step-up: when an API answers that the user's authentication is not strong or recent enough
 * (RFC 9470 `insufficient_user_authentication`) or that the token lacks a scope (RFC 6750
 * `insufficient_scope`), `auth.fetch` can sign the user in again with what the API asked for —
 * in a popup (and retry once) or through a full-page redirect. A challenge that the token obtained
 * by a step-up still meets is returned as it came: never a second popup for it.
 *
 * @module
 */
import type * as oauth from 'oauth4webapi'
import type { LoginOptions } from '../types.js'
import type { Challenge } from './challenge.js'
import { pickChallenge } from './challenge-parse.js'

/** How `auth.fetch` meets a step-up challenge. */
export type StepUpMode = 'none' | 'popup' | 'redirect'

/** The sign-in a challenge asks for. */
export interface StepUpLogin {
  scope?: string
  acrValues?: string[]
  maxAge?: number
  prompt?: string
}

/**
 * What `challenge` asks the user to sign in with, or `undefined` when it is not a step-up challenge.
 * `currentScope`: the session's scopes, to which an `insufficient_scope` challenge's scopes are added.
 */
export function stepUpLogin(challenge: Challenge | undefined, currentScope: string | undefined): StepUpLogin | undefined {
  if (!challenge) return undefined
  if (challenge.error === 'insufficient_user_authentication') {
    const login: StepUpLogin = {}
    if (challenge.acrValues) login.acrValues = [...challenge.acrValues]
    if (challenge.maxAge !== undefined) login.maxAge = challenge.maxAge
    // Neither said: only a fresh authentication can be what is asked.
    if (!login.acrValues && login.maxAge === undefined) login.prompt = 'login'
    return login
  }
  if (challenge.error === 'insufficient_scope' && challenge.scope) {
    const scopes = new Set((currentScope ?? '').split(' ').filter(Boolean))
    const before = scopes.size
    for (const s of challenge.scope.split(' ')) scopes.add(s)
    // The session has every scope asked for already: a sign-in cannot change the API's mind.
    if (scopes.size === before && currentScope !== undefined) return undefined
    return { scope: [...scopes].join(' ') }
  }
  return undefined
}

/** What step-up needs from the client. */
export interface StepUpDeps {
  mode: StepUpMode
  /** `loginWithPopup` of the client. */
  popup(options: LoginOptions): Promise<unknown>
  /** `login` of the client (the page leaves). */
  redirect(options: LoginOptions): Promise<never>
  /** Scopes of the current session. */
  currentScope(): string | undefined
}

/** A step-up that `auth.fetch` may run for one response. */
export interface StepUpPlan {
  /** Signs in with what the challenge asks. Resolves when a retry may be sent (popup); never for a redirect. */
  run(): Promise<void>
  /** Records the token that the step-up produced: the same challenge for it is then final. */
  spend(token: string): void
}

/** The step-up of one client: `plan` answers whether (and how) a challenged response is stepped up. */
export interface StepUp {
  /**
   * `undefined`: return the response as it came. `challenges`: the response's, as parsed (the one
   * that matters is picked here). `token`: the token the API refused.
   */
  plan(challenges: readonly oauth.WWWAuthenticateChallenge[] | undefined, token: string): StepUpPlan | undefined
}

function currentLocation(): string {
  return typeof location === 'undefined' ? '/' : `${location.pathname}${location.search}${location.hash}`
}

/** Creates the step-up of a client, or `undefined` with mode `'none'`. */
export function createStepUp(deps: StepUpDeps): StepUp | undefined {
  if (deps.mode === 'none') return undefined
  /** Step-ups running in this page, by what they ask: concurrent challenges share one popup. */
  const running = new Map<string, Promise<void>>()
  /** For each step-up already done: the token it produced. The same challenge for that token is final. */
  const spent = new Map<string, string>()
  return {
    plan(challenges, token) {
      const login = stepUpLogin(pickChallenge(challenges), deps.currentScope())
      if (!login) return undefined
      const key = JSON.stringify([login.scope, login.acrValues, login.maxAge, login.prompt])
      if (spent.get(key) === token) return undefined
      return {
        run() {
          const shared = running.get(key)
          if (shared) return shared
          const options: LoginOptions = {
            ...(login.scope ? { scope: login.scope } : {}),
            ...(login.acrValues ? { acrValues: login.acrValues } : {}),
            ...(login.maxAge !== undefined ? { maxAge: login.maxAge } : {}),
            ...(login.prompt ? { prompt: login.prompt } : {}),
          }
          const p =
            deps.mode === 'redirect'
              ? deps.redirect({ ...options, returnTo: currentLocation() })
              : deps.popup(options).then(() => undefined)
          running.set(key, p)
          const clear = () => {
            if (running.get(key) === p) running.delete(key)
          }
          p.then(clear, clear)
          return p
        },
        spend(newToken) {
          spent.set(key, newToken)
        },
      }
    },
  }
}
