// What the API counts (`api.stats`), so that tests can assert which requests reached it, with
// which scheme and outcome. Token values are never recorded.

export function createApiStats() {
  const stats = {
    requests: 0,
    preflights: 0,
    byRoute: {},
    ok: 0,
    unauthorized: {},
    /** Authorization scheme of every non-preflight request: 'Bearer' | 'DPoP' | 'none' | other */
    schemes: [],
    log: [],
    reset() {
      stats.requests = 0
      stats.preflights = 0
      stats.byRoute = {}
      stats.ok = 0
      stats.unauthorized = {}
      stats.schemes = []
      stats.log = []
    },
  }
  return stats
}
