/**
 * The token store: IndexedDB (or memory) behind a memory cache. The hot path,
 * {@link TokenStore.cachedAccess}, is a `Map` lookup: no IndexedDB, no lock, no crypto.
 *
 * @module
 */
import type { Backend, WriteOp } from './backend.js'
import {
  isCurrent,
  type AccessTokenRecord,
  type RefreshTokenRecord,
  type SessionRecord,
} from './records.js'
import { withWebStorage } from './web-storage.js'

/**
 * A key part with `|` (and `%`, so the escape is unambiguous) escaped: no part can stand for two,
 * and one namespace is never the prefix of another's keys (client `x` and client `x|y`).
 */
export function keyPart(value: string): string {
  return value.replace(/%/g, '%25').replace(/\|/g, '%7C')
}

/** Key of an access token: one per (resource, scope) of the session. */
export function accessKey(namespace: string, resource: string | undefined, scope: string): string {
  return `${namespace}|${keyPart(resource ?? '')}|${keyPart(scope)}`
}

/** What a sign-in or a refresh writes, in one atomic batch. */
export interface TokenWrite {
  session?: SessionRecord
  /** `null` deletes the stored refresh token; `undefined` keeps it. */
  refresh?: RefreshTokenRecord | null
  /** The access token and its key (see {@link accessKey}). */
  access?: { key: string; record: AccessTokenRecord }
}

/** The token store of one client namespace (`issuer|clientId`). */
export interface TokenStore {
  /** The cached access token for `key`, if any. Synchronous: the hot path. */
  cachedAccess(key: string): AccessTokenRecord | undefined
  /** The cached session anchor (after {@link TokenStore.loadSession}). */
  cachedSession(): SessionRecord | undefined
  /** Reads the session anchor from storage and caches it. */
  loadSession(): Promise<SessionRecord | undefined>
  /** Reads an access token from storage (bound to the current session's subject) and caches it. */
  readAccess(key: string): Promise<AccessTokenRecord | undefined>
  /** Reads the refresh token from storage. Never cached. */
  readRefresh(): Promise<RefreshTokenRecord | undefined>
  /**
   * Stores a sign-in: if the subject differs from the stored session's, every token of the previous
   * user (all audiences) is deleted in the same batch.
   */
  saveSignIn(write: Required<Pick<TokenWrite, 'session'>> & TokenWrite): Promise<void>
  /** Stores the result of a refresh (refresh token before the access token is handed out). */
  saveRefresh(write: TokenWrite): Promise<void>
  /**
   * Deletes every record of the namespace in every store, and the cache. With `signedOut` (a
   * logout), then leaves the mark that {@link TokenStore.signedOut} reads. When the deletes fail,
   * the ended session is marked dead (a time in localStorage, no token) so that what is left is
   * never read again, by this page, another tab or a reload; the next successful wipe or sign-in
   * removes the mark.
   */
  clear(signedOut?: boolean): Promise<void>
  /**
   * Another tab ended the session: forgets the cache and, where this tab keeps tokens in memory
   * only (`storage: 'memory'` or after a fallback), deletes them. IndexedDB is left to the tab
   * that ended the session (it may already hold a newer sign-in).
   */
  forget(): Promise<void>
  /**
   * Whether this tab logged out since the last sign-in, also across a reload: a mark in
   * sessionStorage (no token, and nothing left in the stores that logout wipes). Not kept with
   * `storage: 'memory'`, where nothing outlives the page.
   */
  signedOut(): boolean
  /** Forgets the memory cache (another tab changed the store). */
  dropCache(): void
}

/** Creates the token store of `namespace` on `backend`. */
export function createTokenStore(backend: Backend, namespace: string): TokenStore {
  const access = new Map<string, AccessTokenRecord>()
  let session: SessionRecord | undefined
  const prefix = `${namespace}|`
  const signedOutKey = `oauth-spa:${namespace}:signed-out`
  const deadKey = `oauth-spa:${namespace}:ended-before`
  /** Sessions created up to this time have ended (a wipe failed); kept in this page too. */
  let deadBefore = 0
  const dead = (record: SessionRecord): boolean => {
    const shared = Number(withWebStorage('localStorage', (local) => local.getItem(deadKey)) ?? 0)
    return record.createdAt <= Math.max(deadBefore, Number.isFinite(shared) ? shared : 0)
  }
  const bury = (at: number | undefined) => {
    deadBefore = at ?? 0
    withWebStorage('localStorage', (local) => (at === undefined ? local.removeItem(deadKey) : local.setItem(deadKey, String(at))))
  }
  /** Sets (`true`), clears (`false`) or reads (no argument) the signed-out mark; best effort. */
  const mark = (set?: boolean): boolean =>
    backend.kind === 'indexeddb' &&
    withWebStorage('sessionStorage', (storage) => {
      if (set === true) storage.setItem(signedOutKey, '1')
      else if (set === false) storage.removeItem(signedOutKey)
      return storage.getItem(signedOutKey) === '1'
    }) === true

  const belongs = (record: { sub: string | undefined }) => session !== undefined && record.sub === session.sub

  /** Writes `ops` and then `write`, in one atomic batch. */
  function save(ops: WriteOp[], write: TokenWrite): Promise<void> {
    if (write.session) ops.push({ store: 'id_tokens', key: namespace, value: write.session })
    if (write.refresh !== undefined) ops.push({ store: 'refresh_tokens', key: namespace, value: write.refresh ?? undefined })
    if (write.access) ops.push({ store: 'access_tokens', key: write.access.key, value: write.access.record })
    return backend.write(ops)
  }

  function cacheWrite(write: TokenWrite): void {
    if (write.session) session = write.session
    if (write.access) access.set(write.access.key, write.access.record)
  }

  return {
    cachedAccess: (key) => access.get(key),
    cachedSession: () => session,

    async loadSession() {
      // The access tokens are read beside the session anchor, not after it: a page that loads with
      // a valid token has it in memory when the session is known (no second IndexedDB round trip).
      const [record, tokens] = await Promise.all([
        backend.get<unknown>('id_tokens', namespace),
        backend.entries('access_tokens', prefix).catch(() => []),
      ])
      const next = isCurrent<SessionRecord>(record) && !dead(record) ? record : undefined
      if (next?.sub !== session?.sub || next === undefined) access.clear()
      session = next
      if (next) for (const [key, value] of tokens) if (isCurrent<AccessTokenRecord>(value) && belongs(value) && !access.has(key)) access.set(key, value)
      return session
    },

    async readAccess(key) {
      const record = await backend.get<unknown>('access_tokens', key)
      if (!isCurrent<AccessTokenRecord>(record) || !belongs(record)) return undefined
      access.set(key, record)
      return record
    },

    async readRefresh() {
      const record = await backend.get<unknown>('refresh_tokens', namespace)
      if (!isCurrent<RefreshTokenRecord>(record) || !belongs(record)) return undefined
      return record
    },

    async saveSignIn(write) {
      // Every token of the previous session (all audiences) goes in the same batch: a new sign-in
      // never serves an earlier one's tokens, whoever signed in (without an ID token there is no
      // `sub` to tell users apart).
      const ops: WriteOp[] = [{ store: 'access_tokens', key: prefix, prefix: true }, { store: 'refresh_tokens', key: namespace }]
      await save(ops, write)
      mark(false)
      bury(undefined)
      access.clear()
      cacheWrite(write)
    },

    async saveRefresh(write) {
      await save([], write)
      cacheWrite(write)
    },

    async clear(signedOut) {
      access.clear()
      session = undefined
      // Marked first: a logout counts even when the wipe fails.
      if (signedOut) mark(true)
      try {
        const ops: WriteOp[] = [
          { store: 'id_tokens', key: namespace },
          { store: 'refresh_tokens', key: namespace },
          { store: 'dpop_keys', key: namespace },
          { store: 'access_tokens', key: prefix, prefix: true },
          { store: 'transactions', key: prefix, prefix: true },
        ]
        await backend.write(ops)
      } catch (e) {
        bury(Date.now())
        throw e
      }
      bury(undefined)
    },

    async forget() {
      access.clear()
      session = undefined
      if (backend.kind !== 'memory') return
      await backend.write([
        { store: 'id_tokens', key: namespace },
        { store: 'refresh_tokens', key: namespace },
        { store: 'access_tokens', key: prefix, prefix: true },
      ])
    },

    signedOut: () => mark(),

    dropCache() {
      access.clear()
    },
  }
}

