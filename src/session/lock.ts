/**
 * Mutual exclusion for refreshes: a Web Locks lock across the tabs of the origin; where
 * `navigator.locks` is missing, an in-tab queue still serialises this tab's refreshes.
 *
 * @module
 */

/** Runs `fn` holding the lock `name`. */
export type WithLock = <T>(name: string, fn: () => Promise<T>) => Promise<T>

/** Creates the lock function: Web Locks when available. */
export function createLock(): WithLock {
  const queues = new Map<string, Promise<unknown>>()
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
    if (!locks || typeof locks.request !== 'function') return inTab(name, fn)
    return locks.request(name, { mode: 'exclusive' }, fn) as ReturnType<typeof fn>
  }
}
