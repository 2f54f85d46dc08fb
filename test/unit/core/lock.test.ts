/**
 * The refresh lock without Web Locks: an IndexedDB lease (fake-indexeddb). Each "tab" is its own
 * lock over its own connection to one shared IndexedDB factory, as tabs of one origin are.
 */
import { IDBFactory } from 'fake-indexeddb'
import { afterEach, describe, expect, it, vi } from 'vitest'

import { createLeaseLock, LOCK_DB_NAME } from '../../../src/session/idb-lock.js'
import { createLock } from '../../../src/session/lock.js'

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

function readLease(factory: IDBFactory, name: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const open = factory.open(LOCK_DB_NAME)
    open.onerror = () => reject(open.error)
    open.onsuccess = () => {
      const db = open.result
      const r = db.transaction('leases', 'readonly').objectStore('leases').get(name)
      r.onsuccess = () => {
        db.close()
        resolve(r.result)
      }
      r.onerror = () => reject(r.error)
    }
  })
}

function writeLease(factory: IDBFactory, name: string, lease: unknown): Promise<void> {
  return new Promise((resolve, reject) => {
    const open = factory.open(LOCK_DB_NAME, 1)
    open.onupgradeneeded = () => open.result.createObjectStore('leases')
    open.onerror = () => reject(open.error)
    open.onsuccess = () => {
      const db = open.result
      const tx = db.transaction('leases', 'readwrite')
      tx.objectStore('leases').put(lease, name)
      tx.oncomplete = () => {
        db.close()
        resolve()
      }
      tx.onerror = () => reject(tx.error)
    }
  })
}

/** Records how many holders run at once. */
function tracker() {
  let active = 0
  let max = 0
  const order: string[] = []
  return {
    get max() {
      return max
    },
    order,
    run: (label: string, ms: number) => async () => {
      active++
      max = Math.max(max, active)
      order.push(`${label}+`)
      await sleep(ms)
      order.push(`${label}-`)
      active--
      return label
    },
  }
}

afterEach(() => {
  vi.unstubAllGlobals()
})

/** A browser without the Web Locks API (happy-dom has one). */
function withoutWebLocks() {
  vi.stubGlobal('navigator', Object.create(navigator, { locks: { value: undefined } }))
  expect(navigator.locks).toBeUndefined()
}

describe('createLock without navigator.locks', () => {
  it('keeps three tabs, each with several callers, to one holder at a time across tabs', async () => {
    withoutWebLocks()
    const factory = new IDBFactory()
    const tabs = [0, 1, 2].map(() => createLock({ lease: { factory } }))
    const t = tracker()
    const results = await Promise.all(tabs.flatMap((lock, i) => [0, 1, 2, 3].map((j) => lock('oauth-spa:ns:refresh', t.run(`${i}.${j}`, 15)))))
    expect(results).toHaveLength(12)
    expect(t.max).toBe(1)
    // every holder finished before the next one started
    for (let k = 0; k < t.order.length; k += 2) expect(t.order[k + 1]).toBe(t.order[k]!.replace('+', '-'))
  })

  it('different lock names do not wait for each other', async () => {
    withoutWebLocks()
    const factory = new IDBFactory()
    const [a, b] = [createLock({ lease: { factory } }), createLock({ lease: { factory } })]
    const t = tracker()
    await Promise.all([a('one', t.run('a', 80)), b('two', t.run('b', 80))])
    expect(t.max).toBe(2)
  })

  it('uses navigator.locks where it exists, and then never opens the lease database', async () => {
    const requested: string[] = []
    vi.stubGlobal('navigator', {
      locks: {
        request: (name: string, _opts: unknown, fn: () => Promise<unknown>) => {
          requested.push(name)
          return fn()
        },
      },
    })
    const open = vi.fn()
    const lock = createLock({ lease: { factory: { open } as unknown as IDBFactory } })
    await expect(lock('n', async () => 'done')).resolves.toBe('done')
    expect(requested).toEqual(['n'])
    expect(open).not.toHaveBeenCalled()
  })
})

describe('the IndexedDB lease', () => {
  it('a tab that died holding the lease keeps others out only until it expires', async () => {
    const factory = new IDBFactory()
    await writeLease(factory, 'n', { owner: 'dead-tab', expires: Date.now() + 300 })
    const lock = createLeaseLock({ factory, ttlMs: 300, maxPollMs: 20 })
    const t0 = Date.now()
    await lock('n', async () => undefined)
    const waited = Date.now() - t0
    expect(waited).toBeGreaterThanOrEqual(250)
    expect(waited).toBeLessThan(1_500)
  })

  it('the heartbeat keeps a live holder\'s lease past its lifetime: nobody else gets in meanwhile', async () => {
    const factory = new IDBFactory()
    const options = { factory, ttlMs: 150, heartbeatMs: 40, maxPollMs: 10 }
    const [a, b] = [createLeaseLock(options), createLeaseLock(options)]
    const t = tracker()
    const first = a('n', t.run('a', 600))
    await sleep(50)
    const second = b('n', t.run('b', 10))
    await Promise.all([first, second])
    expect(t.order).toEqual(['a+', 'a-', 'b+', 'b-'])
  })

  it('a lease that lives further ahead than a lease can (the clock went back) counts as expired', async () => {
    const factory = new IDBFactory()
    await writeLease(factory, 'n', { owner: 'other', expires: Date.now() + 3_600_000 })
    const lock = createLeaseLock({ factory, ttlMs: 200 })
    const t0 = Date.now()
    await lock('n', async () => undefined)
    expect(Date.now() - t0).toBeLessThan(150)
  })

  it('a record that is not a lease does not block', async () => {
    const factory = new IDBFactory()
    await writeLease(factory, 'n', 'garbage')
    const lock = createLeaseLock({ factory, ttlMs: 5_000 })
    await expect(lock('n', async () => 'ran')).resolves.toBe('ran')
  })

  it('releases its lease when done, also when fn throws, and stores no more than owner and expiry', async () => {
    const factory = new IDBFactory()
    const lock = createLeaseLock({ factory, ttlMs: 5_000 })
    let during: unknown
    await lock('n', async () => {
      during = await readLease(factory, 'n')
    })
    expect(Object.keys(during as object).sort()).toEqual(['expires', 'owner'])
    expect(await readLease(factory, 'n')).toBeUndefined()
    await expect(lock('n', () => Promise.reject(new Error('boom')))).rejects.toThrow('boom')
    expect(await readLease(factory, 'n')).toBeUndefined()
    // taken at once again (a kept lease would make this wait 5 s)
    const t0 = Date.now()
    await lock('n', async () => undefined)
    expect(Date.now() - t0).toBeLessThan(500)
  })

  it('a holder that lost its expired lease to another tab does not delete that tab\'s lease', async () => {
    const factory = new IDBFactory()
    // a: no renewal before it is done (a stalled tab); b takes the expired lease
    const a = createLeaseLock({ factory, ttlMs: 100, heartbeatMs: 10_000, maxPollMs: 10 })
    const b = createLeaseLock({ factory, ttlMs: 5_000, maxPollMs: 10 })
    let bHolds!: () => void
    const bHolding = new Promise<void>((r) => (bHolds = r))
    let finishB!: () => void
    const bDone = new Promise<void>((r) => (finishB = r))
    const first = a('n', () => sleep(300))
    await sleep(20)
    const second = b('n', async () => {
      bHolds()
      await bDone
    })
    await bHolding
    await first
    const lease = (await readLease(factory, 'n')) as { expires: number }
    expect(lease).toBeDefined()
    expect(lease.expires).toBeGreaterThan(Date.now() + 4_000)
    finishB()
    await second
    expect(await readLease(factory, 'n')).toBeUndefined()
  })

  it('without a usable IndexedDB (missing, failing or hanging) runs fn with no cross-tab guard', async () => {
    const failing = {
      open() {
        const request: { onerror?: () => void; error: Error } = { error: new Error('no') }
        setTimeout(() => request.onerror?.(), 0)
        return request
      },
    } as unknown as IDBFactory
    await expect(createLeaseLock({ factory: failing })('n', async () => 'ran')).resolves.toBe('ran')
    const hanging = { open: () => ({}) } as unknown as IDBFactory
    const t0 = Date.now()
    await expect(createLeaseLock({ factory: hanging, openTimeoutMs: 100 })('n', async () => 'ran')).resolves.toBe('ran')
    expect(Date.now() - t0).toBeGreaterThanOrEqual(90)
    vi.stubGlobal('indexedDB', undefined)
    await expect(createLeaseLock()('n', async () => 'ran')).resolves.toBe('ran')
  })
})
