/**
 * Options → validated configuration. Every mistake is a `configuration_error` that says what to fix.
 *
 * @module
 */
import { OAuthError } from './errors.js'
import { checkIssuerTemplate } from './provider/issuer-template.js'
import { checkMetadataOverride } from './provider/metadata-override.js'
import type { MetadataOverride, OAuthClientOptions } from './types.js'

/** The validated, normalised configuration the parts of the client share. */
export interface Config {
  readonly issuer: string
  readonly clientId: string
  readonly redirectUri: string
  readonly postLogoutRedirectUri: string | undefined
  readonly scope: string
  readonly resources: readonly string[]
  readonly apiOrigins: ReadonlySet<string>
  readonly dpop: boolean
  readonly storage: 'indexeddb' | 'memory'
  readonly refreshLeewayMs: number
  /** The most of a token's lifetime the leeway may take (a 30 s token is not refreshed on every call). */
  readonly refreshLeewayMaxShare: number
  /** Require RFC 9207 `iss` on every callback (`requireIss`), whatever the metadata says. */
  readonly requireIss: boolean
  /** Seconds of clock difference tolerated when checking the ID token's `exp`, `iat`, `nbf` and `auth_time`. */
  readonly clockToleranceSeconds: number
  readonly allowInsecureRequests: boolean
  readonly requestTimeoutMs: number
  readonly pushedAuthorizationRequests: boolean
  /** Whether `scope` is the default (it then drops `offline_access` where the provider does not list it). */
  readonly scopeIsDefault: boolean
  /** Metadata merged over discovery. */
  readonly metadata: MetadataOverride | undefined
  /** The end-session request's return parameter name, and whether `id_token_hint` goes with it. */
  readonly endSession: { readonly returnToParameter: string; readonly idTokenHint: boolean }
  /** Parameters added to every authorization request. */
  readonly authorizationParams: Readonly<Record<string, string>>
  /** Add `consent` to `prompt` when a sign-in asks for `offline_access`. */
  readonly offlineAccessConsent: boolean
  /** Entra-style issuer template (`{tenantid}`), checked against each ID token's `tid`. */
  readonly issuerTemplate: string | undefined
  readonly silentRenew: 'none' | 'iframe'
  readonly silentRedirectUri: string
  readonly restoreOnLoad: boolean
  readonly stepUp: 'none' | 'popup' | 'redirect'
  /** Fetch UserInfo once per sign-in and merge it into the user. */
  readonly userInfo: boolean
  /**
   * `${issuer}|${clientId}` with `%` and `|` escaped in each part: every stored record and the
   * cross-tab channel are keyed by it, and no namespace is a prefix of another's keys.
   */
  readonly namespace: string
}

/** The refresh leeway never takes more than this share of a token's lifetime. */
export const REFRESH_LEEWAY_MAX_SHARE = 0.5

/** Default clock tolerance, in seconds (oauth4webapi's default). */
export const DEFAULT_CLOCK_TOLERANCE = 30

const escapePart = (value: string) => value.replace(/%/g, '%25').replace(/\|/g, '%7C')

/** The largest `appState` accepted by `login()`, in bytes of its JSON form (UTF-8). */
export const APP_STATE_MAX_BYTES = 8 * 1024

/** The default `scope`. */
export const DEFAULT_SCOPE = 'openid profile email offline_access'

function fail(message: string): never {
  throw new OAuthError('configuration_error', `oauth-spa: ${message}`)
}

const LOOPBACK = /^(localhost|127\.0\.0\.1|\[::1\])$/

/**
 * Parses the URL option `name`. It must be https, or http with `allowInsecure`, or (`loopbackOk`:
 * the app's own URIs) http on a loopback host for local development (RFC 8252 §7.3).
 */
function parseUrl(value: unknown, name: string, allowInsecure: boolean, loopbackOk = false): URL {
  if (typeof value !== 'string' || value === '') fail(`"${name}" is required (a URL string).`)
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return fail(`"${name}" must be an absolute URL, got ${JSON.stringify(value)}.`)
  }
  const http = url.protocol === 'http:'
  if (url.protocol !== 'https:' && !(http && (allowInsecure || (loopbackOk && LOOPBACK.test(url.hostname))))) {
    fail(`"${name}" must be https://${http ? ' (or set allowInsecureRequests: true, for local development only)' : ''}.`)
  }
  return url
}

/** A number of seconds: 0 or more, or above 0 when `positive`. */
function seconds(value: unknown, name: string, fallback: number, positive = false): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (positive && value === 0)) {
    fail(`"${name}" must be a number of seconds${positive ? ' above 0' : ' (0 or more)'}.`)
  }
  return value
}

/**
 * Normalises a `scope` value (single spaces, trimmed).
 *
 * @throws {OAuthError} `configuration_error` when it is not a non-empty string
 */
export function normaliseScope(scope: unknown, name: string): string {
  if (typeof scope !== 'string' || scope.trim() === '') fail(`"${name}" must be a non-empty string.`)
  return scope.trim().split(/\s+/).join(' ')
}

/**
 * Validates the options of `createOAuthClient`.
 *
 * @throws {OAuthError} `configuration_error`
 */
export function resolveConfig(options: OAuthClientOptions): Config {
  if (options === null || typeof options !== 'object') fail('createOAuthClient needs an options object.')
  const { issuer, clientId, redirectUri, postLogoutRedirectUri, apiOrigins = [], storage = 'indexeddb' } = options
  const allowInsecureRequests = options.allowInsecureRequests === true

  const issuerUrl = parseUrl(issuer, 'issuer', allowInsecureRequests)
  if (issuerUrl.search || issuerUrl.hash) fail('"issuer" must not have a query or fragment.')
  if (typeof clientId !== 'string' || clientId.trim() === '') fail('"clientId" is required: the client_id registered at the provider, a non-empty string.')
  for (const flag of ['dpop', 'allowInsecureRequests', 'pushedAuthorizationRequests', 'offlineAccessConsent', 'requireIss', 'userInfo'] as const) {
    if (options[flag] !== undefined && typeof options[flag] !== 'boolean') fail(`"${flag}" must be true or false.`)
  }
  parseUrl(redirectUri, 'redirectUri', allowInsecureRequests, true)
  if (redirectUri.includes('#')) fail('"redirectUri" must not contain a fragment.')
  if (postLogoutRedirectUri !== undefined) parseUrl(postLogoutRedirectUri, 'postLogoutRedirectUri', allowInsecureRequests, true)
  if (!Array.isArray(apiOrigins)) fail('"apiOrigins" must be an array of origins.')
  if (storage !== 'indexeddb' && storage !== 'memory') fail('"storage" must be "indexeddb" or "memory".')
  const { silentRenew = 'none', silentRedirectUri = redirectUri, stepUp = 'none' } = options
  if (silentRenew !== 'none' && silentRenew !== 'iframe') fail('"silentRenew" must be "none" or "iframe".')
  if (stepUp !== 'none' && stepUp !== 'popup' && stepUp !== 'redirect') fail('"stepUp" must be "none", "popup" or "redirect".')
  if (options.restoreOnLoad !== undefined && typeof options.restoreOnLoad !== 'boolean') fail('"restoreOnLoad" must be true or false.')
  if (options.restoreOnLoad === true && silentRenew !== 'iframe') fail('"restoreOnLoad" needs silentRenew: "iframe".')
  const silentUrl = parseUrl(silentRedirectUri, 'silentRedirectUri', allowInsecureRequests, true)
  if (silentRedirectUri.includes('#')) fail('"silentRedirectUri" must not contain a fragment.')
  if (silentUrl.origin !== new URL(redirectUri).origin) fail('"silentRedirectUri" must be on the origin of "redirectUri" (the iframe hands its answer back to the page).')

  return {
    // The issuer is used exactly as configured: discovery compares it byte for byte (RFC 8414 §3.3).
    issuer,
    clientId,
    redirectUri,
    postLogoutRedirectUri,
    scope: normaliseScope(options.scope ?? DEFAULT_SCOPE, 'scope'),
    resources: normaliseResources(options.resource, 'resource'),
    // Bare origins only: a path, query, fragment or credentials would suggest a finer match than the origin.
    apiOrigins: new Set(
      apiOrigins.map((value) => {
        const url = parseUrl(value, 'apiOrigins[]', allowInsecureRequests)
        if (url.username || url.password || url.search || url.hash || url.pathname !== '/') {
          fail(`"apiOrigins" entries must be bare origins like "https://api.example.com", got ${JSON.stringify(value)}.`)
        }
        return url.origin
      }),
    ),
    dpop: options.dpop === true,
    storage,
    refreshLeewayMs: seconds(options.refreshLeewaySeconds, 'refreshLeewaySeconds', 30) * 1000,
    refreshLeewayMaxShare: REFRESH_LEEWAY_MAX_SHARE,
    requireIss: options.requireIss === true,
    clockToleranceSeconds: seconds(options.clockToleranceSeconds, 'clockToleranceSeconds', DEFAULT_CLOCK_TOLERANCE),
    allowInsecureRequests,
    requestTimeoutMs: seconds(options.requestTimeoutSeconds, 'requestTimeoutSeconds', 15, true) * 1000,
    pushedAuthorizationRequests: options.pushedAuthorizationRequests === true,
    scopeIsDefault: options.scope === undefined,
    metadata: checkMetadataOverride(options.metadata, allowInsecureRequests),
    endSession: endSession(options.endSession),
    authorizationParams: checkParams(options.authorizationParams, 'authorizationParams'),
    offlineAccessConsent: options.offlineAccessConsent === true,
    issuerTemplate: checkIssuerTemplate(options.issuerTemplate, issuer),
    silentRenew,
    silentRedirectUri,
    restoreOnLoad: options.restoreOnLoad === true,
    stepUp,
    userInfo: options.userInfo === true,
    namespace: `${escapePart(issuer)}|${escapePart(clientId)}`,
  }
}

/**
 * Validates a resource indicator option (RFC 8707 §2: absolute URI, no fragment). Any scheme is
 * allowed (indicators may be URNs).
 *
 * @throws {OAuthError} `configuration_error`
 */
export function normaliseResources(value: unknown, name: string): string[] {
  if (value === undefined) return []
  return (Array.isArray(value) ? value : [value]).map((r) => {
    let url: URL | undefined
    try {
      url = new URL(r as string)
    } catch {
      // reported below
    }
    if (typeof r !== 'string' || !url || url.hash) fail(`"${name}" must be an absolute URI without a fragment (RFC 8707).`)
    return r
  })
}

/** Authorization request parameters only the SDK sets: never from `authorizationParams` or `extraParams`. */
export const RESERVED_PARAMS: ReadonlySet<string> = new Set([
  'client_id',
  'redirect_uri',
  'response_type',
  'response_mode',
  'scope',
  'state',
  'nonce',
  'code_challenge',
  'code_challenge_method',
  'resource',
  'dpop_jkt',
  'request',
  'request_uri',
])

/** A parameter name: what a form or query could carry without escaping surprises. */
const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/

/**
 * Validates an object of extra request parameters (string values, names the SDK does not set).
 *
 * @throws {OAuthError} `configuration_error`
 */
export function checkParams(value: unknown, name: string): Readonly<Record<string, string>> {
  if (value === undefined) return Object.freeze({})
  if (value === null || typeof value !== 'object' || Array.isArray(value)) fail(`"${name}" must be an object of strings.`)
  for (const [k, v] of Object.entries(value)) {
    if (!PARAM_NAME.test(k) || RESERVED_PARAMS.has(k) || typeof v !== 'string') {
      fail(`"${name}.${k}" must be a string and not a parameter the SDK sets (${[...RESERVED_PARAMS].join(', ')}).`)
    }
  }
  if ((value as Record<string, string>)['max_age'] !== undefined) fail(`"${name}.max_age": pass maxAge per sign-in through login({ extraParams }).`)
  return Object.freeze({ ...(value as Record<string, string>) })
}

/** Validates `endSession`. */
function endSession(value: unknown): Config['endSession'] {
  if (value === undefined) return { returnToParameter: 'post_logout_redirect_uri', idTokenHint: true }
  if (value === null || typeof value !== 'object') fail('"endSession" must be an object.')
  const { returnToParameter = 'post_logout_redirect_uri', idTokenHint = true } = value as { returnToParameter?: unknown; idTokenHint?: unknown }
  if (typeof returnToParameter !== 'string' || !PARAM_NAME.test(returnToParameter) || ['client_id', 'id_token_hint', 'state'].includes(returnToParameter)) {
    fail('"endSession.returnToParameter" must be a parameter name such as "post_logout_redirect_uri", "logout_uri" or "returnTo".')
  }
  if (typeof idTokenHint !== 'boolean') fail('"endSession.idTokenHint" must be true or false.')
  return Object.freeze({ returnToParameter, idTokenHint })
}
