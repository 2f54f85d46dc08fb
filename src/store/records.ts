/**
 * The shapes of stored records. Every record carries `v` (its schema version) and is bound to the
 * session's subject; a record of an unknown version is treated as absent, never as a crash.
 *
 * @module
 */

/** Schema version written by this SDK. */
export const RECORD_VERSION = 1

/** One access token, in `access_tokens`, keyed by namespace + resource + scope. */
export interface AccessTokenRecord {
  v: typeof RECORD_VERSION
  sub: string | undefined
  token: string
  tokenType: 'bearer' | 'dpop'
  expiresAt: number
  /**
   * When the token was received (epoch ms): with `expiresAt` it gives the token's lifetime, which
   * caps the refresh leeway. Absent in records written before it was kept.
   */
  issuedAt?: number
  scope: string
  resource: string | undefined
}

/**
 * The session anchor, in `id_tokens`: the ID token (for claims and `id_token_hint`) and its
 * claims. It exists exactly while there is a session (also without `openid`, then without ID token).
 */
export interface SessionRecord {
  v: typeof RECORD_VERSION
  sub: string | undefined
  idToken: string | undefined
  claims: { sub: string; [claim: string]: unknown } | undefined
  /** Scope granted at sign-in: the most a refresh may ask for. */
  scope: string
  /**
   * Resource indicators of the sign-in: a refresh may only ask for these (RFC 8707 §2.2). Absent in
   * records written before it was kept; the configured `resource` stands in then.
   */
  resources?: string[]
  createdAt: number
}

/** The refresh token, in `refresh_tokens`. */
export interface RefreshTokenRecord {
  v: typeof RECORD_VERSION
  sub: string | undefined
  token: string
}

/** The DPoP key pair, in `dpop_keys`: `CryptoKey` objects, the private one non-extractable. */
export interface DpopKeyRecord {
  v: typeof RECORD_VERSION
  keyPair: CryptoKeyPair
}

/** Whether `value` is a record of this SDK's schema version. */
export function isCurrent<T extends { v: number }>(value: unknown): value is T {
  return typeof value === 'object' && value !== null && (value as { v?: unknown }).v === RECORD_VERSION
}
