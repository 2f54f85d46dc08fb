/**
 * `auth.fetch`: `fetch` with the access token attached for allowed API origins. Other origins get
 * the request untouched. A `401` whose challenge says `invalid_token` costs one forced refresh and
 * one retry; a DPoP nonce challenge costs one retry; a redirect is never followed with a token.
 *
 * A Bearer request needs no protocol library: the header, `redirect: "manual"` and the status are
 * plain `fetch`. The challenge parser (on a `401`/`403` with `WWW-Authenticate`), DPoP proofs and
 * step-up come with the lazily loaded protocol code.
 *
 * @module
 */
import type * as oauth from 'oauth4webapi'
import type { Config } from '../config.js'
import { OAuthError } from '../errors.js'
import { redact } from '../provider/redact.js'
import type { GetAccessTokenOptions } from '../types.js'
import type { StepUp } from './step-up.js'

/** What the wrapper needs: tokens come through the session's refresh coordinator only. */
export interface AuthFetchDeps {
  config: Config
  /** The session's getAccessToken; `rejected` is the token the API refused (see the session). */
  getAccessToken(options?: GetAccessTokenOptions, rejected?: string): Promise<string>
  /**
   * Sends a DPoP-bound request (proof, nonce cache), when DPoP is on. Rejects when the session's
   * DPoP key is gone.
   */
  dpopSend?: ((token: string, method: string, url: URL, headers: Headers, body: ArrayBuffer | ReadableStream | null, signal: AbortSignal, fetch: (url: string, init: RequestInit) => Promise<Response>) => Promise<Outcome>) | undefined
  /** Parses the `WWW-Authenticate` challenges of a response (`undefined` when it has none, or they cannot be read). */
  challenges(response: Response): Promise<oauth.WWWAuthenticateChallenge[] | undefined>
  /** Meets step-up challenges (option `stepUp`); absent with `'none'`. */
  stepUp?: (() => Promise<StepUp | undefined>) | undefined
  /** Receives what fails without failing the request (a blocked step-up popup). */
  report?: ((error: OAuthError) => void) | undefined
}

/** The `fetch`-shaped function returned by {@link createAuthFetch}. */
export type AuthFetch = (input: RequestInfo | URL, init?: RequestInit) => Promise<Response>

/** A response, with its challenges when it carried any. */
export type Outcome = { response: Response; challenges?: oauth.WWWAuthenticateChallenge[] | undefined }

function isInvalidToken(challenges: oauth.WWWAuthenticateChallenge[] | undefined): boolean {
  return (challenges ?? []).some(
    (c) => (c.scheme === 'bearer' || c.scheme === 'dpop') && c.parameters.error === 'invalid_token',
  )
}

/**
 * Settles as `work` does, or rejects with the signal's reason as soon as it aborts. The work itself
 * (a refresh shared with other callers) goes on.
 */
function untilAborted<T>(work: Promise<T>, signal: AbortSignal | null | undefined): Promise<T> {
  if (!signal) return work
  if (signal.aborted) return Promise.reject(signal.reason)
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(signal.reason)
    signal.addEventListener('abort', abort, { once: true })
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', abort))
  })
}

/** Creates `auth.fetch`. */
export function createAuthFetch(deps: AuthFetchDeps): AuthFetch {
  const { config } = deps
  /** Each origin's first resource indicator (indicators may also be URNs, whose origin is "null"). */
  const byOrigin = new Map<string, string>()
  for (const r of [...config.resources].reverse()) byOrigin.set(new URL(r).origin, r)

  return async function authFetch(input, init) {
    // Only http(s) before anything else: oauth4webapi would throw a bare TypeError on blob:, data:, …
    const href = input instanceof Request ? input.url : input instanceof URL ? input.href : String(input)
    if (!/^https?:/i.test(href.trim()) && /^[a-z][a-z0-9+.-]*:/i.test(href.trim())) {
      throw new OAuthError('configuration_error', `auth.fetch: only http(s) URLs are supported, not ${JSON.stringify(href.trim().split(':')[0] + ':')}`)
    }
    // Checked here, not left to the engine: WebKit's Request accepts any `signal` (Chromium's and
    // Firefox's throw), and a bad one would fail later as a bare TypeError.
    const given = init?.signal
    if (given != null && (typeof (given as Partial<AbortSignal>).addEventListener !== 'function' || typeof (given as Partial<AbortSignal>).aborted !== 'boolean')) {
      throw new OAuthError('configuration_error', 'auth.fetch: "signal" must be an AbortSignal')
    }
    let request: Request
    try {
      request = new Request(input, init)
    } catch (e) {
      throw new OAuthError('configuration_error', 'auth.fetch: the request is invalid', { cause: redact(e) })
    }
    const url = new URL(request.url)
    // The caller's signal also cuts the wait for a token (a refresh may take up to the request timeout).
    const callerSignal = init?.signal ?? (input instanceof Request ? input.signal : undefined)
    // Not an allowed origin, or the caller brought its own credentials: the request goes out untouched.
    // (The Request built above is sent: building it used up the body of a Request given as input.)
    if (!config.apiOrigins.has(url.origin) || request.headers.has('authorization')) {
      return fetch(request)
    }
    // The token for a request: the resource indicator on the request's origin. With several
    // indicators and none on this origin, which audience is meant is unknown: rather than send
    // another API's token, refuse. With one indicator (or none), its token serves every allowed origin.
    const resource = byOrigin.get(url.origin) ?? (config.resources.length > 1 ? null : config.resources[0])
    if (resource === null) {
      throw new OAuthError(
        'configuration_error',
        `auth.fetch: none of the ${config.resources.length} resource indicators is on ${url.origin}; call getAccessToken({ resource }) and fetch yourself`,
      )
    }

    // A caller's stream cannot be sent twice; any other body is buffered once so a retry can resend it.
    // GET and HEAD never carry one. Decided by method, not by `request.body`: Firefox's Request has
    // no `body` property (undefined, not null), so that test would send GET with a body (a TypeError)
    // and `== null` would drop every POST body there.
    const streaming = init?.body instanceof ReadableStream
    const body: ArrayBuffer | ReadableStream | null = streaming
      ? (init!.body as ReadableStream)
      : request.method === 'GET' || request.method === 'HEAD'
        ? null
        : await request.arrayBuffer()
    const replayable = !streaming
    const headers = new Headers(request.headers)
    // A caller-supplied DPoP header would be forwarded as if it were ours (checklist 41).
    headers.delete('dpop')
    const passthrough: RequestInit = {
      credentials: request.credentials,
      cache: request.cache,
      integrity: request.integrity,
      keepalive: request.keepalive,
      referrer: request.referrer,
      referrerPolicy: request.referrerPolicy,
      ...(request.mode === 'navigate' ? {} : { mode: request.mode }),
    }
    /** `fetch` with the caller's request options (credentials, cache, referrer, …) under ours. */
    const fetchAsCaller = (u: string, o: RequestInit) => fetch(u, { ...passthrough, ...o })
    // The default resource goes through getAccessToken()'s no-options fast path.
    const tokenOptions: GetAccessTokenOptions | undefined = resource === config.resources[0] ? undefined : { resource }

    const send = async (token: string): Promise<Outcome> => {
      if (deps.dpopSend) return untilAborted(deps.dpopSend(token, request.method, url, new Headers(headers), body, request.signal, fetchAsCaller), callerSignal)
      const h = new Headers(headers)
      h.set('authorization', `Bearer ${token}`)
      const init: RequestInit & { duplex?: 'half' } = { method: request.method, headers: h, body, redirect: 'manual', signal: request.signal }
      if (streaming) init.duplex = 'half'
      const response = await fetchAsCaller(url.href, init)
      const challenged = (response.status === 401 || response.status === 403) && response.headers.has('www-authenticate')
      return { response, challenges: challenged ? await deps.challenges(response) : undefined }
    }

    let token = await untilAborted(deps.getAccessToken(tokenOptions), callerSignal)
    let outcome = await send(token)
    // At most three attempts in all: one nonce retry and one refresh retry, in whichever order the
    // API asks for them (a nonce may also rotate while the refresh runs).
    let nonceRetried = !config.dpop
    let refreshed = false
    for (let attempts = 1; replayable && attempts < 3 && outcome.response.status === 401; attempts++) {
      if (!nonceRetried && outcome.challenges?.some((c) => c.scheme === 'dpop' && c.parameters.error === 'use_dpop_nonce')) {
        nonceRetried = true
      } else if (!refreshed && isInvalidToken(outcome.challenges)) {
        refreshed = true
        token = await untilAborted(deps.getAccessToken({ ...tokenOptions, forceRefresh: true }, token), callerSignal)
      } else break
      outcome = await send(token)
    }
    // Step-up (RFC 9470, RFC 6750 insufficient_scope): one sign-in with what the API asked, one retry.
    const status = outcome.response.status
    const stepUp = replayable && (status === 401 || status === 403) && outcome.challenges ? await deps.stepUp?.() : undefined
    const plan = stepUp?.plan(outcome.challenges, token)
    if (plan) {
      try {
        await untilAborted(plan.run(), callerSignal)
      } catch (e) {
        // A step-up popup the browser blocked (WebKit keeps no click activation across the API
        // call): the response comes back as it came, so that the app can read its challenge and
        // ask again from a click (readChallenge + loginWithPopup). Reported through `error`.
        if (!(e instanceof OAuthError && e.code === 'popup_blocked')) throw e
        deps.report?.(e)
        return outcome.response
      }
      token = await untilAborted(deps.getAccessToken(tokenOptions), callerSignal)
      plan.spend(token)
      outcome = await send(token)
    }
    const { response } = outcome
    // Sent with redirect: "manual": the caller asked for "follow" or "error".
    if (response.type === 'opaqueredirect' && request.redirect !== 'manual') {
      throw new OAuthError('redirect_not_allowed', `auth.fetch: ${url.origin} answered with a redirect; it was not followed, so the token went nowhere else`)
    }
    return response
  }
}
