import 'fake-indexeddb/auto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createOAuthClient, OAuthError } from '../../../src/index.js'
import { APP, callbackUrl, clientOptions, installScriptedProvider, signIn, startLogin, type ScriptedProvider } from '../helpers/scripted-provider.js'
import { dumpNamespace, putRaw } from '../helpers/idb.js'
import { openStorage } from '../../../src/store/open-storage.js'
import { createIndexedDbBackend, openDatabase } from '../../../src/store/indexeddb.js'

let p: ScriptedProvider
beforeEach(() => {
  p = installScriptedProvider()
  window.history.replaceState(null, '', `${APP}/`)
})
afterEach(() => p.restore())

describe('storage', () => {
  it('checklist 33/35: tokens live in separate object stores, nothing in localStorage, sessionStorage, cookies or the URL', async () => {
    const auth = createOAuthClient(clientOptions(p))
    await signIn(auth, p)
    const dump = await dumpNamespace(p.clientId, ['access_tokens', 'id_tokens', 'refresh_tokens', 'transactions'])
    const where = (needle: string) => Object.entries(dump).filter(([, v]) => JSON.stringify(v).includes(needle)).map(([k]) => k.split('/')[0])
    expect(where('"at-1"')).toEqual(['access_tokens'])
    expect(where('"rt-1"')).toEqual(['refresh_tokens'])
    expect(where('"eyJ')).toEqual(['id_tokens'])
    const elsewhere = JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie + location.href
    expect(elsewhere).not.toMatch(/at-1|rt-1|eyJ|code_verifier/)
    // The verifier and nonce are deleted after the exchange.
    expect(Object.keys(dump).filter((k) => k.includes('|txn|'))).toEqual([])
  })

  it('checklist 38: IndexedDB unavailable → storage_fallback (seen by a listener attached after creation), sign-in works in memory', async () => {
    vi.stubGlobal('indexedDB', undefined)
    const auth = createOAuthClient(clientOptions(p))
    const events: OAuthError[] = []
    auth.on('storage_fallback', ({ error }) => events.push(error))
    await startLogin(auth, p)
    // The transaction rode in sessionStorage: it holds no token.
    expect(JSON.stringify({ ...sessionStorage })).toMatch(/codeVerifier/)
    await expect(auth.handleRedirectCallback(callbackUrl(p))).resolves.toMatchObject({ user: { sub: 'alice' } })
    await expect(auth.getAccessToken()).resolves.toBe('at-1')
    expect(events.map((e) => e.code)).toEqual(['storage_error'])
    expect(JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage })).not.toMatch(/at-1|rt-1|eyJ/)
  })

  it('checklist 38: indexedDB.open throwing SecurityError → storage_fallback, no crash', async () => {
    vi.stubGlobal('indexedDB', {
      open() {
        throw new DOMException('blocked', 'SecurityError')
      },
    })
    const auth = createOAuthClient(clientOptions(p))
    const seen = vi.fn()
    auth.on('storage_fallback', seen)
    await vi.waitFor(() => expect(seen).toHaveBeenCalledOnce())
    expect(auth.getSnapshot().status).toBe('unauthenticated')
  })

  it('quota errors on write: the client switches to memory, keeps the session and reports storage_fallback', async () => {
    const auth = createOAuthClient(clientOptions(p))
    await signIn(auth, p)
    const seen = vi.fn()
    auth.on('storage_fallback', seen)
    const put = vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('quota', 'QuotaExceededError')
    })
    await expect(auth.getAccessToken({ forceRefresh: true })).resolves.toBe('at-2')
    put.mockRestore()
    await vi.waitFor(() => expect(seen).toHaveBeenCalledOnce())
    await expect(auth.getAccessToken()).resolves.toBe('at-2')
    expect(auth.getSnapshot().status).toBe('authenticated')
    // What IndexedDB still held can no longer be kept current (rt-1 was rotated away in memory):
    // it is deleted, so a reload or another tab cannot replay it.
    expect(await dumpNamespace(p.clientId, ['access_tokens', 'id_tokens', 'refresh_tokens'])).toEqual({})
  })

  it('storage: "memory": another tab\'s sign-in is not readable here, so no login event fires here', async () => {
    const options = clientOptions(p, { storage: 'memory' })
    const a = createOAuthClient(options)
    const b = createOAuthClient(options)
    const logins = vi.fn()
    b.on('login', logins)
    await signIn(a, p)
    await new Promise((r) => setTimeout(r, 50))
    expect(logins).not.toHaveBeenCalled()
    expect(b.getSnapshot().status).toBe('unauthenticated')
  })

  it('storage: "memory" persists nothing: a new page has no session', async () => {
    const options = clientOptions(p, { storage: 'memory' })
    const auth = createOAuthClient(options)
    await signIn(auth, p)
    await expect(auth.getAccessToken()).resolves.toBe('at-1')
    expect(await dumpNamespace(p.clientId, ['access_tokens', 'id_tokens', 'refresh_tokens'])).toEqual({})
    const reloaded = createOAuthClient(options)
    await expect(reloaded.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
  })

  it('records written by another SDK version are ignored, not a crash', async () => {
    const options = clientOptions(p)
    const ns = `${options.issuer}|${options.clientId}`
    await putRaw('id_tokens', ns, { v: 99, sub: 'x', future: true })
    await putRaw('refresh_tokens', ns, 'garbage')
    const auth = createOAuthClient(options)
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
    expect(auth.getSnapshot().status).toBe('unauthenticated')
    await expect(signIn(auth, p)).resolves.toMatchObject({ user: { sub: 'alice' } })
  })

  it('a database of a newer schema version (with extra stores) still opens', async () => {
    await new Promise<void>((resolve, reject) => {
      const probe = indexedDB.open('oauth-spa')
      probe.onsuccess = () => {
        const v = probe.result.version
        probe.result.close()
        const r = indexedDB.open('oauth-spa', v + 1)
        r.onupgradeneeded = () => r.result.createObjectStore(`future_${v}`)
        r.onsuccess = () => (r.result.close(), resolve())
        r.onerror = () => reject(r.error)
      }
      probe.onerror = () => reject(probe.error)
    })
    const auth = createOAuthClient(clientOptions(p))
    const fallback = vi.fn()
    auth.on('storage_fallback', fallback)
    await expect(signIn(auth, p)).resolves.toMatchObject({ user: { sub: 'alice' } })
    expect(fallback).not.toHaveBeenCalled()
  })

  it('IndexedDB cleared by the user while signed in: a new page is cleanly unauthenticated', async () => {
    const options = clientOptions(p)
    const auth = createOAuthClient(options)
    await signIn(auth, p)
    const ns = `${options.issuer}|${options.clientId}`
    for (const store of ['id_tokens', 'refresh_tokens']) await putRaw(store, ns, undefined)
    const reloaded = createOAuthClient(options)
    await expect(reloaded.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
    expect(reloaded.getSnapshot().status).toBe('unauthenticated')
  })

  it('checklist 35: a corrupted access-token record never falls back to the ID token', async () => {
    const options = clientOptions(p)
    const auth = createOAuthClient({ ...options })
    await signIn(auth, p)
    const keys = Object.keys(await dumpNamespace(p.clientId, ['access_tokens']))
    await putRaw('access_tokens', keys[0]!.slice('access_tokens/'.length), { v: 1, corrupt: true })
    const reloaded = createOAuthClient(options)
    await reloaded.fetch('https://api.example/x')
    const sent = p.requests.at(-1)!
    expect(sent.headers.get('authorization')).not.toMatch(/eyJ/)
  })

  it('checklist 38: the database deleted under an open page: the session ends at once, calls reject login_required, and the next sign-in is stored in IndexedDB again', async () => {
    const auth = createOAuthClient(clientOptions(p))
    await signIn(auth, p)
    const expired = vi.fn()
    const fallback = vi.fn()
    auth.on('session_expired', expired)
    auth.on('storage_fallback', fallback)
    await new Promise((resolve, reject) => {
      const r = indexedDB.deleteDatabase('oauth-spa')
      r.onsuccess = resolve
      r.onerror = reject
    })
    await vi.waitFor(() => expect(auth.getSnapshot().status).toBe('unauthenticated'))
    expect(expired).toHaveBeenCalledTimes(1)
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
    await signIn(auth, p)
    expect(auth.getSnapshot().status).toBe('authenticated')
    expect(Object.keys(await dumpNamespace(p.clientId, ['refresh_tokens']))).toHaveLength(1)
    expect(fallback).not.toHaveBeenCalled()
  })

  it('a store that fails under getAccessToken gives a typed storage_error, never a bare DOMException', async () => {
    const auth = createOAuthClient(clientOptions(p))
    await signIn(auth, p)
    const get = vi.spyOn(IDBObjectStore.prototype, 'get').mockImplementation(() => {
      throw new DOMException('The database connection is closing.', 'InvalidStateError')
    })
    try {
      const e = await auth.getAccessToken({ forceRefresh: true }).catch((x: unknown) => x)
      expect(e).toBeInstanceOf(OAuthError)
      expect(e).toMatchObject({ code: 'storage_error', cause: { name: 'InvalidStateError' } })
    } finally {
      get.mockRestore()
    }
  })

  it('logout with a store that cannot be read or wiped still signs out here and in other tabs, and reports storage_error', async () => {
    const auth = createOAuthClient(clientOptions(p))
    await signIn(auth, p)
    const errors: OAuthError[] = []
    const logouts = vi.fn()
    auth.on('error', ({ error }) => errors.push(error))
    auth.on('logout', logouts)
    const transaction = vi.spyOn(IDBDatabase.prototype, 'transaction').mockImplementation(() => {
      throw new DOMException('The database connection is closing.', 'InvalidStateError')
    })
    try {
      await expect(auth.logout({ localOnly: true })).resolves.toBeUndefined()
    } finally {
      transaction.mockRestore()
    }
    expect(auth.getSnapshot().status).toBe('unauthenticated')
    expect(logouts).toHaveBeenCalledTimes(1)
    expect(errors.map((e) => e.code)).toContain('storage_error')
    // What the failed wipe left is never used again by this page, and the next call wipes it.
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
    expect(auth.getSnapshot().status).toBe('unauthenticated')
    expect(await dumpNamespace(p.clientId, ['access_tokens', 'id_tokens', 'refresh_tokens'])).toEqual({})
  })

  it('the switch to memory carries every record of this namespace (not another namespace that shares its prefix) and removes them from IndexedDB', async () => {
    const ns = `https://op.example|rescue-${Math.random().toString(36).slice(2)}`
    const fallback = vi.fn()
    const backend = openStorage('indexeddb', ns, fallback)
    await backend.write([
      { store: 'id_tokens', key: ns, value: { v: 1, sub: 'alice' } },
      { store: 'refresh_tokens', key: ns, value: { v: 1, sub: 'alice', token: 'rt-1' } },
      { store: 'access_tokens', key: `${ns}|https://api.example|openid`, value: { v: 1, token: 'at-1' } },
      { store: 'refresh_tokens', key: `${ns}2`, value: { v: 1, token: 'other-client' } },
    ])
    const put = vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('quota', 'QuotaExceededError')
    })
    try {
      await backend.write([{ store: 'refresh_tokens', key: ns, value: { v: 1, sub: 'alice', token: 'rt-2' } }])
    } finally {
      put.mockRestore()
    }
    expect(fallback).toHaveBeenCalledOnce()
    expect(backend.kind).toBe('memory')
    await expect(backend.get('id_tokens', ns)).resolves.toMatchObject({ sub: 'alice' })
    await expect(backend.get('refresh_tokens', ns)).resolves.toMatchObject({ token: 'rt-2' })
    await expect(backend.get('access_tokens', `${ns}|https://api.example|openid`)).resolves.toMatchObject({ token: 'at-1' })
    await expect(backend.get('refresh_tokens', `${ns}2`)).resolves.toBeUndefined()
    const left = await dumpNamespace(ns.split('|')[1]!, ['id_tokens', 'refresh_tokens', 'access_tokens'])
    expect(Object.keys(left)).toEqual([`refresh_tokens/${ns}2`])
  })

  it('a batch that throws part-way is not half written (all or nothing)', async () => {
    const ns = `https://op.example|atomic-${Math.random().toString(36).slice(2)}`
    const backend = createIndexedDbBackend(openDatabase())
    await backend.write([{ store: 'refresh_tokens', key: ns, value: { v: 1, token: 'rt-1' } }])
    const put = vi.spyOn(IDBObjectStore.prototype, 'put').mockImplementation(() => {
      throw new DOMException('quota', 'QuotaExceededError')
    })
    try {
      await expect(
        backend.write([
          { store: 'refresh_tokens', key: ns },
          { store: 'id_tokens', key: ns, value: { v: 1 } },
        ]),
      ).rejects.toMatchObject({ name: 'QuotaExceededError' })
    } finally {
      put.mockRestore()
    }
    await expect(backend.get('refresh_tokens', ns)).resolves.toMatchObject({ token: 'rt-1' })
  })

  it('a prefix delete removes exactly the keys that start with the prefix, in IndexedDB, memory and sessionStorage', async () => {
    const ns = `https://op.example|prefix-${Math.random().toString(36).slice(2)}`
    const keys = [`${ns}|a|openid`, `${ns}|`, `${ns}|\uffff`, ns, `${ns}}`, `${ns}%7Cx`, `${ns}2|a`]
    const doomed = keys.filter((k) => k.startsWith(`${ns}|`))
    const { createMemoryBackend, createSessionStorageBackend } = await import('../../../src/store/memory.js')
    const backends = { indexeddb: createIndexedDbBackend(openDatabase()), memory: createMemoryBackend(), sessionStorage: createMemoryBackend(createSessionStorageBackend()) }
    for (const [name, backend] of Object.entries(backends)) {
      const store = name === 'sessionStorage' ? 'transactions' : 'access_tokens'
      await backend.write(keys.map((key) => ({ store, key, value: { v: 1, key } })))
      await backend.write([{ store, key: `${ns}|`, prefix: true }])
      const left: string[] = []
      for (const key of keys) if ((await backend.get(store, key)) !== undefined) left.push(key)
      expect(left, name).toEqual(keys.filter((k) => !doomed.includes(k)))
    }
  })

  it('a page loaded with a valid stored token has it in memory once the session is known: getAccessToken then reads no IndexedDB', async () => {
    const options = clientOptions(p)
    await signIn(createOAuthClient(options), p)
    const opened: string[] = []
    const transaction = IDBDatabase.prototype.transaction
    vi.spyOn(IDBDatabase.prototype, 'transaction').mockImplementation(function (this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
      opened.push([args[0]].flat().join('+'))
      return transaction.apply(this, args)
    })
    window.history.replaceState(null, '', `${APP}/`)
    const reloaded = createOAuthClient(options)
    await vi.waitFor(() => expect(reloaded.getSnapshot().status).toBe('authenticated'))
    const atLoad = opened.length
    await expect(reloaded.getAccessToken()).resolves.toBe('at-1')
    expect(opened.slice(atLoad)).toEqual([])
    // Both were read at load, side by side (not one after the other).
    expect(opened.slice(0, atLoad).sort()).toEqual(['access_tokens', 'id_tokens'])
  })

  it('a sign-in replaces the previous tokens in one IndexedDB transaction, without listing the access-token keys first', async () => {
    const auth = createOAuthClient(clientOptions(p))
    await signIn(auth, p)
    await expect(auth.getAccessToken({ resource: 'https://api.example', scope: 'openid' })).resolves.toBeTypeOf('string')
    const before = Object.keys(await dumpNamespace(p.clientId, ['access_tokens']))
    expect(before.length).toBe(2)
    const opened: string[] = []
    const transaction = IDBDatabase.prototype.transaction
    vi.spyOn(IDBDatabase.prototype, 'transaction').mockImplementation(function (this: IDBDatabase, ...args: Parameters<IDBDatabase['transaction']>) {
      opened.push(`${[args[0]].flat().sort().join('+')} ${args[1] ?? 'readonly'}`)
      return transaction.apply(this, args)
    })
    await signIn(auth, p)
    expect(opened.filter((t) => t.includes('access_tokens'))).toEqual(['access_tokens+id_tokens+refresh_tokens readwrite'])
    // Every access token of the previous sign-in is gone; the new one is there.
    const after = await dumpNamespace(p.clientId, ['access_tokens'])
    expect(Object.values(after).map((r) => (r as { token: string }).token)).toEqual([`at-${p.issued}`])
  })
})
