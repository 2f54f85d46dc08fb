/**
 * Handles the redirect back from the provider: finds the transaction by `state` and consumes it
 * before the first `await` of anything else, validates the response (state, RFC 9207 `iss`,
 * `error=`), scrubs the address bar, redeems the code once, and hands the tokens to the session.
 *
 * @module
 */
import * as oauth from 'oauth4webapi'
import type { Config } from '../config.js'
import type { DpopKeys } from '../dpop/keys.js'
import { OAuthError } from '../errors.js'
import { redact, toOAuthError } from '../provider/errors.js'
import { exchangeCode } from '../provider/grants.js'
import type { Provider } from '../provider/provider.js'
import type { Session, SignIn } from '../session/session.js'
import { RECORD_VERSION, type SessionRecord } from '../store/records.js'
import type { RedirectResult } from '../types.js'
import { currentHref, parseUrl, samePath, type CallbackDetector } from './detect.js'
import type { MixUpGuard } from './mix-up.js'
import type { Transaction, TransactionStore } from './transactions.js'

/** Parameters removed from the address bar after a callback. */
const CALLBACK_PARAMS = ['code', 'state', 'iss', 'error', 'error_description', 'error_uri', 'session_state']

/** What the callback handler needs. */
export interface CallbackDeps {
  config: Config
  provider: Provider
  transactions: TransactionStore
  session: Session
  dpopKeys: DpopKeys
  /** Receives what fails without failing the sign-in (UserInfo, with `userInfo: true`). */
  report?: (error: OAuthError) => void
  /** Recognises this client's callbacks (shared with the always-loaded part of the client). */
  detector: CallbackDetector
  /** The mix-up guard of this client's redirect URI, registered when the client was created. */
  mixUp: MixUpGuard
}

/** The callback handler of one client. */
export interface CallbackHandler {
  handle(url?: string): Promise<RedirectResult>
  isCallback(url?: string): boolean
  /** Whether the callback's state is a pending sign-in of this client (not another client's on the same redirect URI). */
  owns(url?: string): Promise<boolean>
  /** Validates and redeems a callback like `handle`, but hands the sign-in back instead of storing it (silent renewal). */
  exchange(url: string): Promise<{ result: RedirectResult; signIn: SignIn }>
}

/** Removes the callback parameters from the address bar (RFC 9700 §4.2.4, §4.3.1). Returns the new address. */
function scrubAddressBar(): string | undefined {
  if (typeof history === 'undefined' || typeof location === 'undefined') return undefined
  const url = new URL(location.href)
  let changed = false
  for (const p of CALLBACK_PARAMS) {
    if (url.searchParams.has(p)) {
      url.searchParams.delete(p)
      changed = true
    }
  }
  if (changed) history.replaceState(history.state, '', url.href)
  return location.href
}

/**
 * Maps oauth4webapi's verdict on the authorization response. Decided by error class, never by
 * oauth4webapi's message text (a rewording there would silently change the code returned): the
 * `state` was checked before (the transaction was found by it), so what is left is the provider's
 * error answer (`authorization_error`) or a malformed response (`invalid_callback`).
 */
function mapValidationError(e: unknown): OAuthError {
  if (e instanceof oauth.AuthorizationResponseError) return toOAuthError(e, 'callback', 'authorization_error')
  return new OAuthError('invalid_callback', `callback: ${e instanceof Error ? e.message : 'invalid callback'}`, { cause: redact(e) })
}

/** Creates the callback handler. */
export function createCallbackHandler(deps: CallbackDeps): CallbackHandler {
  const { config, provider, transactions, session } = deps
  const { mixUp } = deps
  /** Callbacks of this page, by state: a second call gets the first call's promise. */
  const handled = new Map<string, Promise<RedirectResult>>()
  /** The address this page's callback left after the scrub, and its promise: a second call without URL joins it. */
  let scrubbed: { href: string; promise: Promise<RedirectResult> } | undefined

  /**
   * `ours` runs once the state is known to be this client's (a pending or a completed sign-in):
   * only then is the address bar scrubbed, since another client on the same redirect URI may own it.
   */
  async function run(url: URL, state: string, ours: () => void, sink?: (data: SignIn) => void): Promise<RedirectResult> {
    // Taking it leaves a marker in the same step: the same URL handled in another tab at this
    // moment (or replayed later) is then callback_already_handled, not a forged invalid_state.
    const txn = await transactions.take(state)
    const taken = !txn && (await transactions.wasTaken(state).catch(() => false))
    if (txn || taken) ours()
    if (txn) {
      try {
        return await redeem(url, state, txn, sink)
      } catch (e) {
        // Failed: a later replay of this URL is unknown, not "already handled".
        await transactions.release(state).catch(() => undefined)
        throw e
      }
    }
    checkOnce(url)
    if (taken) throw new OAuthError('callback_already_handled', 'callback: this sign-in was already completed (or is being completed) in this browser')
    throw new OAuthError('invalid_state', 'callback: no pending sign-in matches this state (unknown, replayed or from another client)')
  }

  /** Checklist 8: every callback parameter at most once (checked after consuming the transaction). */
  function checkOnce(url: URL): void {
    for (const name of ['code', 'iss', 'error']) {
      if (url.searchParams.getAll(name).length > 1) {
        throw new OAuthError('invalid_callback', `callback: "${name}" appears more than once`)
      }
    }
  }

  /** Validates the response of a taken transaction, redeems the code and signs in. */
  async function redeem(url: URL, state: string, txn: Transaction, sink?: (data: SignIn) => void): Promise<RedirectResult> {
    checkOnce(url)
    if (txn.expiresAt <= Date.now()) {
      throw new OAuthError('invalid_state', 'callback: the sign-in took longer than 10 minutes and expired; start it again')
    }
    if (!samePath(url, new URL(txn.redirectUri))) {
      throw new OAuthError('invalid_callback', 'callback: the URL is not the redirect URI of this sign-in')
    }
    // The metadata the sign-in started with, when this page has none yet (a callback page): no
    // discovery request before the token request. Only metadata of this client's issuer is taken.
    provider.adopt(txn.metadata)
    const metadata = await provider.metadata()
    const as = mixUp(url, metadata)
    // The transaction was taken by this URL's single `state`; checked again here, by us.
    if (url.searchParams.get('state') !== txn.state) throw new OAuthError('invalid_state', 'callback: the "state" does not match the sign-in')
    let params: URLSearchParams
    try {
      params = oauth.validateAuthResponse(as, provider.client(as), url, txn.state)
    } catch (e) {
      throw mapValidationError(e)
    }
    // Tokens never come from the front channel: only the code is used.
    let dpop: oauth.DPoPHandle | undefined
    if (config.dpop) {
      dpop = await deps.dpopKeys.handle(!txn.dpopJkt)
      if (!dpop || (txn.dpopJkt && (await dpop.calculateThumbprint()) !== txn.dpopJkt)) {
        throw new OAuthError('dpop_error', 'callback: the DPoP key this sign-in was bound to is gone; sign in again')
      }
    }
    const resource = txn.resources[0]
    const { tokens, claims } = await exchangeCode(provider, {
      params,
      redirectUri: txn.redirectUri,
      codeVerifier: txn.codeVerifier,
      nonce: txn.nonce,
      maxAge: txn.maxAge,
      resource,
      scope: txn.scope,
      dpop,
      userInfo: config.userInfo ? { report: (error) => deps.report?.(error) } : undefined,
    })
    // acr_values asked for (step-up): the provider's answer must be one of them.
    if (txn.acrValues && !(typeof claims?.acr === 'string' && txn.acrValues.includes(claims.acr))) {
      throw new OAuthError('invalid_token_response', `callback: the ID token's acr is not one of the requested acr_values (${txn.acrValues.join(' ')})`)
    }
    const record: SessionRecord = {
      v: RECORD_VERSION,
      sub: claims?.sub,
      idToken: tokens.idToken,
      claims,
      scope: txn.scope,
      resources: txn.resources,
      createdAt: Date.now(),
    }
    try {
      if (sink) sink({ session: record, tokens, resource })
      else await session.signIn({ session: record, tokens, resource })
    } catch (e) {
      throw e instanceof OAuthError ? e : new OAuthError('storage_error', 'callback: the tokens could not be stored', { cause: redact(e) })
    }
    await transactions.completed(state).catch(() => undefined)
    // What was asked for and what came back: a dropped offline_access is visible to the app.
    const grant = { requestedScope: txn.scope, grantedScope: tokens.scope, refreshToken: tokens.refreshToken !== undefined }
    return { returnTo: txn.returnTo, user: claims, grant, appState: txn.appState }
  }

  return {
    handle(url) {
      if (url === undefined && scrubbed && scrubbed.href === currentHref()) return scrubbed.promise
      const parsed = parseUrl(url)
      if (!parsed) {
        return Promise.reject(new OAuthError('invalid_callback', 'handleRedirectCallback: not a valid URL'))
      }
      const isPage = url === undefined || parsed.href === currentHref()
      const states = parsed.searchParams.getAll('state')
      const state = states.length === 1 ? states[0] : undefined
      const existing = state === undefined ? undefined : handled.get(state)
      if (existing) return existing
      if (state === undefined || state === '') {
        // No single state: nobody's sign-in can be completed from this URL. The page's status,
        // held at `loading` since the client saw the callback, settles with the error.
        const error = new OAuthError('invalid_state', states.length > 1 ? 'callback: "state" appears more than once' : 'callback: the URL has no "state"')
        if (isPage) {
          scrubAddressBar()
          void session.settle(undefined, error)
        }
        return Promise.reject(error)
      }
      const token = session.hold()
      const ours = () => {
        const after = isPage ? scrubAddressBar() : undefined
        if (after !== undefined) scrubbed = { href: after, promise: p }
      }
      const p: Promise<RedirectResult> = run(parsed, state, ours).then(
        async (result) => {
          await session.settle(token)
          return result
        },
        async (e: unknown) => {
          const error = e instanceof OAuthError ? e : new OAuthError('invalid_callback', 'callback failed', { cause: redact(e) })
          await session.settle(token, error)
          throw error
        },
      )
      handled.set(state, p)
      return p
    },
    isCallback(url) {
      const state = deps.detector.pendingState(url)
      return state !== undefined && !handled.has(state)
    },
    async exchange(url) {
      const parsed = parseUrl(url)
      const states = parsed?.searchParams.getAll('state') ?? []
      if (!parsed || states.length !== 1 || !states[0]) throw new OAuthError('invalid_state', 'callback: the URL has no single "state"')
      let signIn: SignIn | undefined
      const result = await run(parsed, states[0], () => undefined, (data) => void (signIn = data))
      return { result, signIn: signIn! }
    },
    owns: (url) => deps.detector.owns(url),
  }
}
