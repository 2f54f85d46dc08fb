/**
 * Builds the authorization request (PKCE S256, state, nonce, resource, prompt, login_hint,
 * dpop_jkt, extra parameters, PAR when asked or required), stores it as a transaction and leaves
 * the page for the provider.
 *
 * @module
 */
import * as oauth from 'oauth4webapi'
import type { Config } from '../config.js'
import { normaliseResources, normaliseScope, RESERVED_PARAMS } from '../config.js'
import type { DpopKeys } from '../dpop/keys.js'
import { OAuthError } from '../errors.js'
import { redact, toOAuthError } from '../provider/errors.js'
import { withDpopNonceRetry } from '../provider/grants.js'
import { effectiveScope, promptFor } from '../provider/offline-access.js'
import type { Provider } from '../provider/provider.js'
import { RECORD_VERSION } from '../store/records.js'
import type { LoginOptions } from '../types.js'
import { copyAppState } from './app-state.js'
import { currentOrigin, currentPath, sameOriginPath } from './return-to.js'
import { TRANSACTION_LIFETIME_MS, type Transaction, type TransactionStore } from './transactions.js'

/** Parameters that only the SDK sets. */
const RESERVED = RESERVED_PARAMS

/** What {@link startLogin} needs. */
export interface AuthorizeDeps {
  config: Config
  provider: Provider
  transactions: TransactionStore
  dpopKeys: DpopKeys
  /** Reports a non-fatal problem (e.g. a refused `returnTo`). */
  warn(error: OAuthError): void
  /** Navigates the page. */
  navigate(url: string): void
}

function invalid(message: string): OAuthError {
  return new OAuthError('configuration_error', `login: ${message}`)
}

/** Validates `login()` options. */
function checkOptions(options: LoginOptions): void {
  if (typeof options !== 'object' || options === null) throw invalid('options must be an object')
  for (const name of ['returnTo', 'prompt', 'loginHint'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'string') throw invalid(`"${name}" must be a string`)
  }
  const extra = options.extraParams ?? {}
  if (typeof extra !== 'object' || extra === null) throw invalid('"extraParams" must be an object of strings')
  for (const [k, v] of Object.entries(extra)) {
    if (RESERVED.has(k) || typeof v !== 'string') throw invalid(`"extraParams.${k}" must be a string and not a parameter the SDK sets`)
  }
  if (extra['max_age'] !== undefined && !/^\d{1,10}$/.test(extra['max_age'])) throw invalid('"extraParams.max_age" must be a number of seconds')
  if (options.maxAge !== undefined && !(Number.isInteger(options.maxAge) && options.maxAge >= 0 && options.maxAge < 1e10)) {
    throw invalid('"maxAge" must be a whole number of seconds (0 or more)')
  }
  const acr = options.acrValues
  if (acr !== undefined && !(typeof acr === 'string' ? acr.trim() !== '' : Array.isArray(acr) && acr.length > 0 && acr.every((v) => typeof v === 'string' && /^\S+$/.test(v)))) {
    throw invalid('"acrValues" must be a non-empty string or array of strings')
  }
}

/** `acrValues` as a list. */
function acrList(value: string | readonly string[] | undefined): string[] | undefined {
  if (value === undefined) return undefined
  return typeof value === 'string' ? value.trim().split(/\s+/) : [...value]
}

/** A prepared authorization request: where to send the browser, and its `state`. */
export interface PreparedLogin {
  url: string
  state: string
  expiresAt: number
}

/** Internal variants of a sign-in (popup, silent renewal). */
export interface PrepareOptions {
  /** Redirect URI of this sign-in (silent renewal). Default: the client's. */
  redirectUri?: string
}

/** Starts a sign-in. Resolves never: the page navigates to the provider. */
export async function startLogin(deps: AuthorizeDeps, options: LoginOptions = {}): Promise<never> {
  const { url } = await prepareLogin(deps, options)
  deps.navigate(url)
  return new Promise<never>(() => {})
}

/**
 * Builds the authorization request of a sign-in and stores its transaction; the caller takes the
 * browser (a page, a popup, an iframe) to `url`.
 */
export async function prepareLogin(deps: AuthorizeDeps, options: LoginOptions = {}, internal: PrepareOptions = {}): Promise<PreparedLogin> {
  const { config, provider, transactions } = deps
  const redirectUri = internal.redirectUri ?? config.redirectUri
  checkOptions(options)
  const appState = copyAppState(options.appState)
  const origin = currentOrigin()
  if (origin === undefined) throw invalid('login() needs a browser page')

  const as = await provider.metadata()
  const url = provider.navigable(as.authorization_endpoint)
  if (!url) throw invalid('the provider has no authorization_endpoint the browser may go to (an https URL)')
  const client = provider.client(as)
  await transactions.purge().catch(() => undefined)

  const scope = options.scope === undefined ? effectiveScope(config.scope, config.scopeIsDefault, as) : normaliseScope(options.scope, 'login scope')
  const askedPrompt = options.prompt || options.extraParams?.['prompt'] || config.authorizationParams['prompt'] || undefined
  const prompt = promptFor(askedPrompt, scope, config.offlineAccessConsent)
  const resources = options.resource === undefined ? [...config.resources] : normaliseResources(options.resource, 'login resource')
  let returnTo = currentPath()
  if (options.returnTo !== undefined) {
    const safe = sameOriginPath(options.returnTo, origin)
    if (safe === undefined) {
      deps.warn(invalid(`"returnTo" must be a same-origin path; ${JSON.stringify(options.returnTo)} was replaced by "/"`))
      returnTo = '/'
    } else returnTo = safe
  }

  const codeVerifier = oauth.generateRandomCodeVerifier()
  const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier)
  const state = oauth.generateRandomState()
  const nonce = scope.split(' ').includes('openid') ? oauth.generateRandomNonce() : undefined

  let dpop: oauth.DPoPHandle | undefined
  let dpopJkt: string | undefined
  if (config.dpop) {
    // A key that cannot survive the redirect (memory storage) cannot bind the code: no dpop_jkt then.
    dpop = await deps.dpopKeys.handle(true)
    if (dpop && deps.dpopKeys.persistent()) dpopJkt = await dpop.calculateThumbprint()
  }

  const params = new URLSearchParams({
    client_id: config.clientId,
    redirect_uri: redirectUri,
    response_type: 'code',
    scope,
    state,
    code_challenge: codeChallenge,
    code_challenge_method: 'S256',
  })
  if (nonce) params.set('nonce', nonce)
  for (const r of resources) params.append('resource', r)
  if (options.loginHint) params.set('login_hint', options.loginHint)
  const acrValues = acrList(options.acrValues)
  if (acrValues) params.set('acr_values', acrValues.join(' '))
  if (dpopJkt) params.set('dpop_jkt', dpopJkt)
  for (const [k, v] of Object.entries(config.authorizationParams)) params.set(k, v)
  for (const [k, v] of Object.entries(options.extraParams ?? {})) params.set(k, v)
  if (prompt) params.set('prompt', prompt)
  if (options.maxAge !== undefined) params.set('max_age', String(options.maxAge))

  const now = Date.now()
  const txn: Transaction = {
    v: RECORD_VERSION,
    state,
    nonce,
    codeVerifier,
    redirectUri,
    scope,
    resources,
    returnTo,
    createdAt: now,
    expiresAt: now + TRANSACTION_LIFETIME_MS,
    dpopJkt,
    ...(appState === undefined ? {} : { appState }),
    // Sent as max_age: the ID token's auth_time is then checked against it (OIDC Core §3.1.2.1).
    maxAge: options.maxAge ?? (options.extraParams?.['max_age'] === undefined ? undefined : Number(options.extraParams['max_age'])),
    ...(acrValues ? { acrValues } : {}),
    metadata: provider.discovered(),
  }
  try {
    await transactions.put(txn)
  } catch (e) {
    throw new OAuthError('storage_error', 'login: the transaction could not be stored', { cause: redact(e) })
  }

  if (config.pushedAuthorizationRequests || as.require_pushed_authorization_requests === true) {
    if (typeof as.pushed_authorization_request_endpoint !== 'string') {
      throw invalid('the provider has no pushed_authorization_request_endpoint (PAR)')
    }
    let requestUri: string
    try {
      const par = await withDpopNonceRetry(async () => {
        // A DPoP proof on PAR binds the code to its key (RFC 9449 §10.1): only for a key that
        // survives the redirect, i.e. exactly when dpop_jkt is sent.
        const response = await oauth.pushedAuthorizationRequest(as, client, oauth.None(), params, {
          ...provider.requestOptions(),
          ...(dpop && dpopJkt ? { DPoP: dpop } : {}),
        })
        return oauth.processPushedAuthorizationResponse(as, client, response)
      })
      requestUri = par.request_uri
    } catch (e) {
      // Nothing navigates: the transaction of this attempt is of no use any more.
      await transactions.discard(state).catch(() => undefined)
      throw toOAuthError(e, 'pushed authorization request', 'configuration_error')
    }
    url.searchParams.set('client_id', config.clientId)
    url.searchParams.set('request_uri', requestUri)
  } else {
    for (const [k, v] of params) url.searchParams.append(k, v)
  }
  return { url: url.href, state, expiresAt: txn.expiresAt }
}
