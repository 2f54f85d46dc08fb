// Helpers for the DPoP scenarios (test/e2e/dpop.spec.mjs): looks at the SDK's DPoP key record in
// the page's IndexedDB (database `oauth-spa`, store `dpop_keys`, key `<issuer>|<clientId>`, value
// `{ v, keyPair }`), and thumbprints in Node. Read-only, except tamperDpopKey (a staged loss or corruption).
import { calculateJwkThumbprint, decodeJwt } from 'jose'

import { DB_NAME } from './browser-helpers.mjs'

export const DPOP_STORE = 'dpop_keys'

/** The SDK's storage namespace of the e2e client: `<issuer>|<clientId>`. */
export function namespaceOf(servers) {
  return `${servers.provider.issuer}|${servers.clientId}`
}

/** RFC 7638 SHA-256 thumbprint of a public JWK. */
export function thumbprint(jwk) {
  return calculateJwkThumbprint(jwk, 'sha256')
}

/** `cnf.jkt` of a JWT access token (undefined when unbound). */
export function jktOf(accessToken) {
  return decodeJwt(accessToken).cnf?.jkt
}

/**
 * Inspects the stored DPoP key record of `namespace` in the page:
 * { present, recordFields, v, isCryptoKey: { privateKey, publicKey }, privateKey: { type, extractable,
 *   algorithm, namedCurve, usages }, publicKey: {...}, publicJwk, exportPrivate: { ok, name, message } }
 * and adds `thumbprint` (of the public JWK, computed in Node).
 */
export async function inspectDpopKey(page, namespace) {
  const out = await page.evaluate(async ([dbName, storeName, key]) => {
    const req = (r) => new Promise((resolve, reject) => {
      r.onsuccess = () => resolve(r.result)
      r.onerror = () => reject(r.error)
    })
    const db = await req(indexedDB.open(dbName))
    try {
      if (!db.objectStoreNames.contains(storeName)) return { present: false, storeMissing: true }
      const record = await req(db.transaction(storeName, 'readonly').objectStore(storeName).get(key))
      if (record === undefined) return { present: false }
      const describeKey = (k) => (k instanceof CryptoKey
        ? { type: k.type, extractable: k.extractable, algorithm: k.algorithm?.name, namedCurve: k.algorithm?.namedCurve, usages: [...k.usages].sort() }
        : { notACryptoKey: typeof k, fields: k && typeof k === 'object' ? Object.keys(k).sort() : [] })
      const pair = record.keyPair ?? {}
      let exportPrivate
      try {
        await crypto.subtle.exportKey('jwk', pair.privateKey)
        exportPrivate = { ok: true }
      } catch (e) {
        exportPrivate = { ok: false, name: e?.name, message: String(e?.message ?? e) }
      }
      let publicJwk
      try {
        const { kty, crv, x, y } = await crypto.subtle.exportKey('jwk', pair.publicKey)
        publicJwk = { kty, crv, x, y }
      } catch (e) {
        publicJwk = undefined
      }
      return {
        present: true,
        recordFields: Object.keys(record).sort(),
        v: record.v,
        isCryptoKey: { privateKey: pair.privateKey instanceof CryptoKey, publicKey: pair.publicKey instanceof CryptoKey },
        privateKey: describeKey(pair.privateKey),
        publicKey: describeKey(pair.publicKey),
        // a JWK anywhere in the record would show up here as a `d` member
        hasPrivateJwkMember: JSON.stringify(record, (_k, v) => (v instanceof CryptoKey ? '[CryptoKey]' : v)).includes('"d"'),
        publicJwk,
        exportPrivate,
      }
    } finally {
      db.close()
    }
  }, [DB_NAME, DPOP_STORE, namespace])
  if (out.publicJwk) out.thumbprint = await thumbprint(out.publicJwk)
  return out
}

/** Keys of every record in the `dpop_keys` store (all namespaces). */
export function dpopKeyRecordKeys(page) {
  return page.evaluate(async ([dbName, storeName]) => {
    const req = (r) => new Promise((resolve, reject) => {
      r.onsuccess = () => resolve(r.result)
      r.onerror = () => reject(r.error)
    })
    const db = await req(indexedDB.open(dbName))
    try {
      if (!db.objectStoreNames.contains(storeName)) return []
      return (await req(db.transaction(storeName, 'readonly').objectStore(storeName).getAllKeys())).map(String)
    } finally {
      db.close()
    }
  }, [DB_NAME, DPOP_STORE])
}

/**
 * Changes the DPoP key record of `namespace` behind the SDK's back: `change` is 'delete' (a staged
 * key loss), 'null-pair' ({ v: 1, keyPair: null }, a corrupted record) or 'rsa' (a valid RS256 key
 * pair, not one the SDK would make).
 */
export function tamperDpopKey(page, namespace, change) {
  return page.evaluate(async ([dbName, storeName, key, kind]) => {
    const keyPair = kind === 'rsa'
      ? await crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' }, false, ['sign', 'verify'])
      : null
    const db = await new Promise((resolve, reject) => {
      const r = indexedDB.open(dbName)
      r.onsuccess = () => resolve(r.result)
      r.onerror = () => reject(r.error)
    })
    try {
      const tx = db.transaction(storeName, 'readwrite')
      if (kind === 'delete') tx.objectStore(storeName).delete(key)
      else tx.objectStore(storeName).put({ v: 1, keyPair }, key)
      await new Promise((resolve, reject) => {
        tx.oncomplete = resolve
        tx.onerror = () => reject(tx.error)
        tx.onabort = () => reject(tx.error)
      })
    } finally {
      db.close()
    }
  }, [DB_NAME, DPOP_STORE, namespace, change])
}
