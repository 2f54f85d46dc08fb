/**
 * A first visit (no database yet): the stored session is answered "none" while the database is
 * being created, not after. And nothing else changes: an existing database is read, a write is
 * seen by the reads after it, the memory fallback still gets its sessionStorage transactions.
 */
import 'fake-indexeddb/auto'
import { IDBDatabase as FakeIDBDatabase, IDBFactory } from 'fake-indexeddb'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createOAuthClient } from '../../../src/index.js'
import { createSessionStorageBackend } from '../../../src/store/memory.js'
import { openStorage } from '../../../src/store/open-storage.js'
import { APP, clientOptions, installScriptedProvider, signIn, type ScriptedProvider } from '../helpers/scripted-provider.js'

const NS = 'https://op.example|first-visit'

/**
 * A fresh IndexedDB (no database: a first visit) that logs, in `log`, when an `indexedDB.open`
 * succeeds (`opened`) and when a read or write transaction is started on a database (`tx <stores> <mode>`).
 * `onOpen` may add listeners to each open request (after the SDK's own handlers).
 */
function freshIndexedDb(log: string[], onOpen: (request: IDBOpenDBRequest) => void = () => {}): void {
  const factory = new IDBFactory()
  const open = factory.open.bind(factory)
  factory.open = (name: string, version?: number) => {
    const request = open(name, version)
    request.addEventListener('success', () => log.push('opened'))
    queueMicrotask(() => onOpen(request))
    return request
  }
  vi.stubGlobal('indexedDB', factory)
  const transaction = FakeIDBDatabase.prototype.transaction
  vi.spyOn(FakeIDBDatabase.prototype, 'transaction').mockImplementation(function (this: IDBDatabase, stores, mode, options) {
    // (fake-indexeddb runs its own version change transaction through this method too)
    if (mode !== 'versionchange') log.push(`tx ${[stores].flat().join('+')} ${mode ?? 'readonly'}`)
    return transaction.call(this, stores, mode, options)
  })
}

let p: ScriptedProvider
beforeEach(() => {
  p = installScriptedProvider()
  window.history.replaceState(null, '', `${APP}/`)
  sessionStorage.clear()
})
afterEach(() => {
  p.restore()
  vi.unstubAllGlobals()
})

describe('first visit: no database yet', () => {
  it('the stored session reads answer "none" while the database is being created, without a transaction, and no storage_fallback', async () => {
    const log: string[] = []
    freshIndexedDb(log)
    const onFallback = vi.fn()
    const backend = openStorage('indexeddb', NS, onFallback)
    await Promise.all([
      backend.get('id_tokens', NS).then((v) => log.push(`get ${String(v)}`)),
      backend.entries('access_tokens', `${NS}|`).then((v) => log.push(`entries ${v.length}`)),
      backend.entries('refresh_tokens', NS).then((v) => log.push(`refresh entries ${v.length}`)),
    ])
    await vi.waitFor(() => expect(log).toContain('opened'))
    expect(log.slice(0, 3).sort()).toEqual(['entries 0', 'get undefined', 'refresh entries 0'])
    expect(log.slice(3)).toEqual(['opened'])
    expect(backend.kind).toBe('indexeddb')
    expect(onFallback).not.toHaveBeenCalled()
    // The database exists now, and later reads go to it.
    await backend.write([{ store: 'id_tokens', key: NS, value: { v: 1 } }])
    await expect(backend.get('id_tokens', NS)).resolves.toEqual({ v: 1 })
  })

  it('a database that exists is read, not answered "none" (a reload, another tab)', async () => {
    const log: string[] = []
    freshIndexedDb(log)
    await openStorage('indexeddb', NS, () => {}).write([{ store: 'id_tokens', key: NS, value: { v: 1 } }])
    const again = openStorage('indexeddb', NS, () => {})
    await expect(again.get('id_tokens', NS)).resolves.toEqual({ v: 1 })
  })

  it('a read issued after a write of this page waits for it and sees it, also while the database is being created', async () => {
    freshIndexedDb([])
    const backend = openStorage('indexeddb', NS, () => {})
    const before = backend.get('id_tokens', NS)
    const written = backend.write([{ store: 'id_tokens', key: NS, value: { v: 2 } }])
    const after = backend.get('id_tokens', NS)
    await written
    await expect(before).resolves.toBeUndefined()
    await expect(after).resolves.toEqual({ v: 2 })
  })

  it('the creation fails after it began: storage_fallback once, and the transactions kept in sessionStorage are still read', async () => {
    const log: string[] = []
    // The version change transaction is aborted after the SDK's upgrade handler ran (as a full
    // disk or a private mode that refuses to create databases would).
    freshIndexedDb(log, (request) => request.addEventListener('upgradeneeded', () => request.transaction?.abort()))
    const txn = { v: 1, state: 's' }
    await createSessionStorageBackend()!.write([{ store: 'transactions', key: `${NS}|txn|s`, value: txn }])
    const onFallback = vi.fn()
    const backend = openStorage('indexeddb', NS, onFallback)
    await expect(backend.get('transactions', `${NS}|txn|s`)).resolves.toEqual(txn)
    await expect(backend.get('id_tokens', NS)).resolves.toBeUndefined()
    expect(backend.kind).toBe('memory')
    expect(onFallback).toHaveBeenCalledTimes(1)
  })

  it('a client on a first visit is unauthenticated before the database has been created; a sign-in then persists across a reload, with no status flash', async () => {
    const log: string[] = []
    freshIndexedDb(log)
    const options = clientOptions(p)
    const auth = createOAuthClient(options)
    const fallback = vi.fn()
    auth.on('storage_fallback', fallback)
    auth.subscribe(() => log.push(auth.getSnapshot().status))
    await vi.waitFor(() => expect(log).toContain('opened'))
    expect(log.indexOf('unauthenticated')).toBeGreaterThanOrEqual(0)
    expect(log.indexOf('unauthenticated')).toBeLessThan(log.indexOf('opened'))
    expect(log.filter((e) => e.startsWith('tx '))).toEqual([])
    await signIn(auth, p)
    expect(auth.getSnapshot().status).toBe('authenticated')

    const statuses: string[] = []
    const reloaded = createOAuthClient(options)
    statuses.push(reloaded.getSnapshot().status)
    reloaded.subscribe(() => statuses.push(reloaded.getSnapshot().status))
    await vi.waitFor(() => expect(reloaded.getSnapshot().status).not.toBe('loading'))
    expect(statuses.filter((s, i) => s !== statuses[i - 1])).toEqual(['loading', 'authenticated'])
    await expect(reloaded.getAccessToken()).resolves.toBe('at-1')
    expect(fallback).not.toHaveBeenCalled()
  })
})
