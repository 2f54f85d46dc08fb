/**
 * The key-value backend the token store and the transaction store sit on. One implementation
 * per medium: IndexedDB (via idb-keyval) and memory. This folder depends on no other part of the SDK.
 *
 * @module
 */

/** The object stores. Each secret kind has its own, so code that reads one cannot read another by accident. */
export type StoreName = 'access_tokens' | 'id_tokens' | 'refresh_tokens' | 'dpop_keys' | 'transactions'

/** All object stores, in creation order. */
export const STORE_NAMES: readonly StoreName[] = [
  'access_tokens',
  'id_tokens',
  'refresh_tokens',
  'dpop_keys',
  'transactions',
]

/** One write of an atomic batch: `value === undefined` deletes the key. */
export interface WriteOp {
  store: StoreName
  key: string
  value?: unknown
  /**
   * Deletes every key of `store` that starts with `key` (no `value`): in the same batch, without
   * listing the keys first (one IndexedDB round trip fewer).
   */
  prefix?: true
}

/** A key-value medium with atomic multi-store batches. */
export interface Backend {
  readonly kind: 'indexeddb' | 'memory'
  get<T>(store: StoreName, key: string): Promise<T | undefined>
  /** The records of `store` whose keys start with `prefix`, as `[key, value]` pairs, in one read. */
  entries(store: StoreName, prefix: string): Promise<[string, unknown][]>
  /** Applies every op or none. */
  write(ops: readonly WriteOp[]): Promise<void>
  /**
   * Reads and deletes `key` in one step: two concurrent takes never both get the value. When there
   * was a value and `leave` is given, `leave.value` is written at `leave.key` (same store) in that
   * same step.
   */
  take<T>(store: StoreName, key: string, leave?: { key: string; value: unknown }): Promise<T | undefined>
}
