/**
 * Options → validated configuration. Every mistake is a `configuration_error` that says what to fix.
 *
 * @module
 */
import { OAuthError } from './errors.js'
import type { OAuthClientOptions } from './types.js'

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
  readonly allowInsecureRequests: boolean
  readonly requestTimeoutMs: number
  readonly pushedAuthorizationRequests: boolean
  /** `${issuer}|${clientId}`: every stored record and the cross-tab channel are keyed by it. */
  readonly namespace: string
}

/** The default `scope`. */
export const DEFAULT_SCOPE = 'openid profile email offline_access'

function fail(message: string): never {
  throw new OAuthError('configuration_error', `spa-oauth: ${message}`)
}

function parseUrl(value: unknown, name: string): URL {
  if (typeof value !== 'string' || value === '') fail(`"${name}" is required and must be a URL string.`)
  try {
    return new URL(value)
  } catch {
    return fail(`"${name}" must be an absolute URL, got ${JSON.stringify(value)}.`)
  }
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]'])

function checkScheme(url: URL, name: string, allowInsecure: boolean, loopbackOk = false): void {
  if (url.protocol === 'https:') return
  if (url.protocol === 'http:' && allowInsecure) return
  // The app's own URIs may be http on a loopback host (local development, RFC 8252 §7.3).
  if (url.protocol === 'http:' && loopbackOk && LOOPBACK.has(url.hostname)) return
  if (url.protocol === 'http:') {
    fail(`"${name}" uses http://. Use https://, or set allowInsecureRequests: true for local development only.`)
  }
  fail(`"${name}" must be an https:// URL, got ${url.protocol}.`)
}

function positiveNumber(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    fail(`"${name}" must be a non-negative number of seconds.`)
  }
  return value
}

/**
 * Normalises an origin given in `apiOrigins`: scheme, host and port only, lower-cased, default
 * ports dropped. A value with a path, query, credentials or a non-http(s) scheme is refused.
 */
function normaliseOrigin(value: unknown, allowInsecure: boolean): string {
  const url = parseUrl(value, 'apiOrigins[]')
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    fail(`"apiOrigins" entries must be bare origins like "https://api.example.com", got ${JSON.stringify(value)}.`)
  }
  checkScheme(url, 'apiOrigins[]', allowInsecure)
  return url.origin
}

/**
 * Validates the options of `createOAuthClient`.
 *
 * @throws {OAuthError} `configuration_error`
 */
export function resolveConfig(options: OAuthClientOptions): Config {
  if (options === null || typeof options !== 'object') fail('createOAuthClient needs an options object.')
  const allowInsecureRequests = options.allowInsecureRequests === true

  const issuerUrl = parseUrl(options.issuer, 'issuer')
  checkScheme(issuerUrl, 'issuer', allowInsecureRequests)
  if (issuerUrl.search || issuerUrl.hash) fail('"issuer" must not have a query or fragment.')

  if (typeof options.clientId !== 'string' || options.clientId.trim() === '') {
    fail('"clientId" is required: the client_id registered at the provider.')
  }

  const redirect = parseUrl(options.redirectUri, 'redirectUri')
  checkScheme(redirect, 'redirectUri', allowInsecureRequests, true)
  if (options.redirectUri.includes('#')) fail('"redirectUri" must not contain a fragment (#).')

  let postLogoutRedirectUri: string | undefined
  if (options.postLogoutRedirectUri !== undefined) {
    const url = parseUrl(options.postLogoutRedirectUri, 'postLogoutRedirectUri')
    checkScheme(url, 'postLogoutRedirectUri', allowInsecureRequests, true)
    postLogoutRedirectUri = options.postLogoutRedirectUri
  }

  const scope = options.scope ?? DEFAULT_SCOPE
  if (typeof scope !== 'string' || scope.trim() === '') fail('"scope" must be a non-empty string.')

  const resources = normaliseResources(options.resource, 'resource')

  if (options.apiOrigins !== undefined && !Array.isArray(options.apiOrigins)) {
    fail('"apiOrigins" must be an array of origins.')
  }
  const apiOrigins = new Set((options.apiOrigins ?? []).map((o) => normaliseOrigin(o, allowInsecureRequests)))

  const storage = options.storage ?? 'indexeddb'
  if (storage !== 'indexeddb' && storage !== 'memory') fail('"storage" must be "indexeddb" or "memory".')

  const timeout = positiveNumber(options.requestTimeoutSeconds, 'requestTimeoutSeconds', 15)
  if (timeout === 0) fail('"requestTimeoutSeconds" must be greater than 0.')

  return {
    // The issuer is used exactly as configured: discovery compares it byte for byte (RFC 8414 §3.3).
    issuer: options.issuer,
    clientId: options.clientId,
    redirectUri: options.redirectUri,
    postLogoutRedirectUri,
    scope: scope.trim().split(/\s+/).join(' '),
    resources,
    apiOrigins,
    dpop: options.dpop === true,
    storage,
    refreshLeewayMs: positiveNumber(options.refreshLeewaySeconds, 'refreshLeewaySeconds', 30) * 1000,
    allowInsecureRequests,
    requestTimeoutMs: timeout * 1000,
    pushedAuthorizationRequests: options.pushedAuthorizationRequests === true,
    namespace: `${options.issuer}|${options.clientId}`,
  }
}

/**
 * Validates a resource indicator option (RFC 8707 §2: absolute URI, no fragment).
 *
 * @throws {OAuthError} `configuration_error`
 */
export function normaliseResources(value: unknown, name: string): string[] {
  if (value === undefined) return []
  const list = Array.isArray(value) ? value : [value]
  return list.map((r) => {
    const url = parseUrl(r, name)
    if (url.hash) fail(`"${name}" must not contain a fragment (RFC 8707).`)
    return r as string
  })
}
