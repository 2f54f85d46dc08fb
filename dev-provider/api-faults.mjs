// A switch that makes the API refuse valid tokens (401 invalid_token), for retry tests:
// `api.faults.set({ path: '/api/echo', count: 1 })`, `api.faults.clear()`.

export function createApiFaults() {
  let faultRule
  return {
    /** Refuse the next `count` (default: every) authenticated requests to `path` (any path if omitted), optionally only `method`. */
    set({ path, method, count = Infinity } = {}) {
      faultRule = { path, method, remaining: count }
    },
    clear() {
      faultRule = undefined
    },
    take(method, path) {
      const r = faultRule
      if (!r || (r.path !== undefined && r.path !== path) || (r.method !== undefined && r.method !== method)) return false
      if (--r.remaining <= 0) faultRule = undefined
      return true
    },
  }
}
