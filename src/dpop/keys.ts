/**
 * The DPoP key pair (RFC 9449): ES256, private key non-extractable, kept as `CryptoKey` objects in
 * the `dpop_keys` store (structured clone: the private key bytes never exist in JavaScript). One
 * key per session; logout deletes it.
 *
 * @module
 */
import * as oauth from 'oauth4webapi'
import { OAuthError } from '../errors.js'
import type { Backend } from '../store/backend.js'
import { isCurrent, RECORD_VERSION, type DpopKeyRecord } from '../store/records.js'

/** Access to the session's DPoP key. */
export interface DpopKeys {
  /** Whether keys survive a page load here (not in memory storage: a `CryptoKey` cannot go to sessionStorage). */
  readonly persistent: () => boolean
  /** The DPoP handle of the stored key, creating and storing a key when there is none and `create` is set. */
  handle(create: boolean): Promise<oauth.DPoPHandle | undefined>
  /** Forgets the cached handle (the session ended; the store was wiped). */
  forget(): void
}

/** Whether a stored value is an ES256 key pair this SDK could have made (anything else: the key is lost). */
function usable(pair: unknown): pair is CryptoKeyPair {
  const { privateKey, publicKey } = (typeof pair === 'object' && pair !== null ? pair : {}) as Partial<CryptoKeyPair>
  const algorithm = publicKey?.algorithm as EcKeyAlgorithm | undefined
  return (
    privateKey instanceof CryptoKey &&
    publicKey instanceof CryptoKey &&
    privateKey.type === 'private' &&
    publicKey.extractable &&
    algorithm?.name === 'ECDSA' &&
    algorithm.namedCurve === 'P-256'
  )
}

/**
 * Creates the DPoP key access of `namespace`. `withLock` serialises key creation across tabs, so
 * two tabs starting a sign-in at once end up with one key.
 */
export function createDpopKeys(
  backend: Backend,
  namespace: string,
  withLock: <T>(name: string, fn: () => Promise<T>) => Promise<T>,
): DpopKeys {
  let cached: Promise<oauth.DPoPHandle | undefined> | undefined

  async function read(): Promise<oauth.DPoPHandle | undefined> {
    const record = await backend.get<unknown>('dpop_keys', namespace)
    return isCurrent<DpopKeyRecord>(record) && usable(record.keyPair) ? oauth.DPoP({}, record.keyPair) : undefined
  }

  async function load(create: boolean): Promise<oauth.DPoPHandle | undefined> {
    const existing = await read()
    if (existing || !create) return existing
    return withLock(`oauth-spa:${namespace}:dpop-key`, async () => (await read()) ?? generate())
  }

  async function generate(): Promise<oauth.DPoPHandle> {
    let keyPair: CryptoKeyPair
    try {
      keyPair = await oauth.generateKeyPair('ES256', { extractable: false })
    } catch (cause) {
      throw new OAuthError('dpop_error', 'DPoP: WebCrypto could not create an ES256 key pair', {
        cause: { name: 'Error', message: String((cause as Error)?.message ?? cause) },
      })
    }
    await backend.write([{ store: 'dpop_keys', key: namespace, value: { v: RECORD_VERSION, keyPair } satisfies DpopKeyRecord }])
    return oauth.DPoP({}, keyPair)
  }

  return {
    persistent: () => backend.kind === 'indexeddb',
    async handle(create) {
      const current = cached ? await cached.catch(() => undefined) : undefined
      if (current) return current
      const p = load(create)
      cached = p
      const result = await p.catch((e: unknown) => {
        if (cached === p) cached = undefined
        throw e
      })
      if (result === undefined && cached === p) cached = undefined
      return result
    },
    forget() {
      cached = undefined
    },
  }
}
