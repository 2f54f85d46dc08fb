/**
 * A cross-tab lock for browsers without the Web Locks API (Safari < 15.4, Firefox < 96): a lease
 * in IndexedDB. Taking it is one `readwrite` transaction that reads the lease and writes a new one
 * when there is none or it has expired; IndexedDB runs `readwrite` transactions on the same store
 * one at a time, across the tabs of the origin as well, so two tabs can never both see the lock
 * free. The holder renews the lease while it runs (a heartbeat), and a tab that dies (closed,
 * crashed) stops renewing it: the lease expires and another tab takes it.
 *
 * What it cannot promise: a holder whose event loop stalls for longer than the lease lives (a
 * debugger pause, a frozen tab) loses the lease without knowing, and another tab may run at the
 * same time. The lease record holds the lock's name, a random owner id and an expiry: no token.
 *
 * @module
 */
import { promisifyRequest } from 'idb-keyval'

/** Name of the IndexedDB database that holds the leases (separate from the token database). */
export const LOCK_DB_NAME = 'oauth-spa-locks'
const STORE = 'leases'

/** A lease as stored. */
interface Lease {
  owner: string
  expires: number
}

/** Options of {@link createLeaseLock}; the defaults suit browsers, tests shorten the times. */
export interface LeaseLockOptions {
  /** The IndexedDB factory (default: the global `indexedDB`). */
  factory?: IDBFactory
  /** How long a lease lives without renewal, in ms (default 10 000). */
  ttlMs?: number
  /** How often the holder renews its lease, in ms (default 2 000). */
  heartbeatMs?: number
  /** The longest pause between two attempts of a waiting tab, in ms (default 200). */
  maxPollMs?: number
  /** How long opening the database may take before the lock gives up on it, in ms (default 5 000). */
  openTimeoutMs?: number
}

/** Runs `fn` holding the lease `name`; without a usable IndexedDB, runs `fn` with no cross-tab guard. */
export type LeaseLock = <T>(name: string, fn: () => Promise<T>) => Promise<T>

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

function randomId(): string {
  const bytes = new Uint8Array(16)
  crypto.getRandomValues(bytes)
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')
}

function openLockDatabase(factory: IDBFactory, timeoutMs: number): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('opening the lock database timed out')), timeoutMs)
    const request = factory.open(LOCK_DB_NAME, 1)
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(STORE)) request.result.createObjectStore(STORE)
    }
    request.onsuccess = () => {
      clearTimeout(timer)
      resolve(request.result)
    }
    request.onerror = () => {
      clearTimeout(timer)
      reject(request.error ?? new Error('indexedDB.open failed'))
    }
    request.onblocked = () => {
      clearTimeout(timer)
      reject(new Error('opening the lock database is blocked'))
    }
  })
}

/**
 * One `readwrite` transaction on the lease `name`: `decide` sees the current lease and returns
 * what to write (a lease, `null` to delete it, `undefined` to leave it). Resolves with what
 * `decide` returned, once the transaction has committed.
 */
async function update(
  db: IDBDatabase,
  name: string,
  decide: (lease: Lease | undefined) => Lease | null | undefined,
): Promise<Lease | null | undefined> {
  const tx = db.transaction(STORE, 'readwrite')
  const store = tx.objectStore(STORE)
  let decision: Lease | null | undefined
  const read = store.get(name)
  read.onsuccess = () => {
    const value = read.result as unknown
    const lease =
      typeof value === 'object' && value !== null && typeof (value as Lease).owner === 'string' && typeof (value as Lease).expires === 'number'
        ? (value as Lease)
        : undefined
    decision = decide(lease)
    if (decision === null) store.delete(name)
    else if (decision !== undefined) store.put(decision, name)
  }
  await promisifyRequest(tx)
  return decision
}

/** Creates the lease lock. The database is opened on first use, never where Web Locks exist. */
export function createLeaseLock(options: LeaseLockOptions = {}): LeaseLock {
  const ttl = options.ttlMs ?? 10_000
  const heartbeat = options.heartbeatMs ?? 2_000
  const maxPoll = options.maxPollMs ?? 200
  const openTimeout = options.openTimeoutMs ?? 5_000
  let dbp: Promise<IDBDatabase | undefined> | undefined

  /** The open database, or undefined where IndexedDB cannot be used (then there is no cross-tab guard). */
  const database = (): Promise<IDBDatabase | undefined> => {
    if (dbp) return dbp
    const factory = options.factory ?? (typeof indexedDB === 'undefined' ? undefined : indexedDB)
    if (!factory) return (dbp = Promise.resolve(undefined))
    const opening = openLockDatabase(factory, openTimeout).then(
      (db) => {
        // Deleted, upgraded or closed under us (site data cleared): open again on next use.
        const lost = () => {
          if (dbp === opening) dbp = undefined
        }
        db.onversionchange = () => {
          db.close()
          lost()
        }
        db.onclose = lost
        return db
      },
      () => undefined,
    )
    return (dbp = opening)
  }

  /** A lease that has not expired. One that lives further ahead than a lease can (the clock went back) counts as expired. */
  const live = (lease: Lease | undefined, now: number): lease is Lease => lease !== undefined && lease.expires > now && lease.expires <= now + 2 * ttl

  async function acquire(db: IDBDatabase, name: string, owner: string): Promise<void> {
    for (let pause = 10; ; pause = Math.min(pause * 2, maxPoll)) {
      const now = Date.now()
      const taken = await update(db, name, (lease) => (live(lease, now) ? undefined : { owner, expires: now + ttl }))
      if (taken) return
      await sleep(pause)
    }
  }

  return async (name, fn) => {
    const db = await database()
    const owner = randomId()
    try {
      if (db) await acquire(db, name, owner)
    } catch {
      // The database failed under us (closed, cleared): open it again next time; this call runs
      // with the in-tab guard only, as where IndexedDB is unavailable.
      dbp = undefined
      return fn()
    }
    if (!db) return fn()

    let renewing: Promise<unknown> = Promise.resolve()
    const timer = setInterval(() => {
      renewing = renewing.then(() =>
        update(db, name, (lease) => (lease?.owner === owner ? { owner, expires: Date.now() + ttl } : undefined)).catch(() => undefined),
      )
    }, heartbeat)
    try {
      return await fn()
    } finally {
      clearInterval(timer)
      await renewing
      // Only our own lease: one that expired and was taken by another tab is not ours to delete.
      await update(db, name, (lease) => (lease?.owner === owner ? null : undefined)).catch(() => undefined)
    }
  }
}
