/**
 * `<AuthProvider issuer=… clientId=… redirectUri=…>`: the client made from options given as props.
 * One client per distinct set of options for the whole page, so that StrictMode's double render,
 * a remount or a second provider with the same options never makes a second client (each client
 * opens storage and a cross-tab channel, and may be handling the redirect callback).
 *
 * @module
 */
import { createOAuthClient } from '../client.js'
import type { OAuthClient, OAuthClientOptions } from '../types.js'

const clients = new Map<string, OAuthClient>()

/** A stable text of `options`: the same for equal values, whatever the key order or object identity. */
export function optionsKey(options: OAuthClientOptions): string {
  return JSON.stringify(options, (_key, value: unknown) =>
    value !== null && typeof value === 'object' && !Array.isArray(value)
      ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : value,
  )
}

/**
 * The page's client for `options` (of key `key`, see {@link optionsKey}), created on first use.
 *
 * @throws {OAuthError} `configuration_error` from `createOAuthClient` when an option cannot work.
 */
export function clientFor(key: string, options: OAuthClientOptions): OAuthClient {
  let client = clients.get(key)
  if (client === undefined) {
    client = createOAuthClient(options)
    clients.set(key, client)
  }
  return client
}
