/**
 * Mutual exclusion for refreshes (and sign-in writes, logout wipes, DPoP key creation) across the
 * tabs of the origin. With the Web Locks API: a `navigator.locks` exclusive lock. Without it
 * (Safari < 15.4, Firefox < 96): an in-tab queue, so this tab's calls run one at a time, in front
 * of a lease in IndexedDB ({@link createLeaseLock}) that keeps other tabs out. Where IndexedDB
 * cannot be opened either, only the in-tab queue is left (tabs then do not share tokens anyway:
 * the session lives in each tab's memory).
 *
 * @module
 */
import type { LeaseLock, LeaseLockOptions } from './idb-lock.js'

/** Runs `fn` holding the lock `name`. */
export type WithLock = <T>(name: string, fn: () => Promise<T>) => Promise<T>

/** Options of {@link createLock}. */
export interface LockOptions {
  /** Options of the IndexedDB lease used where Web Locks are missing. */
  lease?: LeaseLockOptions
}

/**
 * Creates the lock function. Whether `navigator.locks` exists is checked on every call, so a page
 * that loses it (or a test that removes it) still gets a cross-tab lock.
 */
export function createLock(options: LockOptions = {}): WithLock {
  const queues = new Map<string, Promise<unknown>>()
  // Loaded on first need: only browsers without Web Locks download the lease (and if it cannot be
  // loaded, the in-tab queue is what is left, as where IndexedDB cannot be opened).
  let lease: Promise<LeaseLock> | undefined
  const inTab: WithLock = (name, fn) => {
    const previous = queues.get(name) ?? Promise.resolve()
    const run = previous.then(fn, fn)
    const tail = run.catch(() => undefined)
    queues.set(name, tail)
    void tail.then(() => {
      if (queues.get(name) === tail) queues.delete(name)
    })
    return run
  }
  return (name, fn) => {
    const locks = typeof navigator === 'undefined' ? undefined : navigator.locks
    if (locks && typeof locks.request === 'function') return locks.request(name, { mode: 'exclusive' }, fn) as ReturnType<typeof fn>
    lease ??= import('./idb-lock.js').then(
      (m) => m.createLeaseLock(options.lease),
      (): LeaseLock => (_name, f) => f(),
    )
    const held = lease
    return inTab(name, async () => (await held)(name, fn))
  }
}

/**
 * Connects the page to the browser's lock manager ahead of need (a side-effect-free `query()`),
 * where Web Locks exist. In Chromium the first Web Locks call of a page waits 10-180 ms for that
 * connection (measured on the bench's callback page, later calls ~1 ms): called where a lock is
 * about to be needed after a network round trip (a callback page signs in under the lock), it
 * takes that wait off the way.
 */
export function warmLocks(): void {
  const locks = typeof navigator === 'undefined' ? undefined : navigator.locks
  if (locks && typeof locks.query === 'function') void locks.query().catch(() => undefined)
}
