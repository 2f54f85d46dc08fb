/**
 * The refresh coordinator: one refresh at a time per (resource, scope) in this tab, under a lock
 * across tabs; a tab that waited re-reads the store before deciding to refresh itself. It feeds the
 * session's table events (`refreshStart`, `refreshAnswer`, `refreshRefused`, `refreshFailed`,
 * `renewAnswer`, `renewFailed`, `expire`) and writes an answer only when the table accepts it.
 *
 * A refresh grant is never abandoned while the provider may still rotate the refresh token: callers
 * stop waiting after the request timeout (`timeout`), the grant finishes under the lock and its
 * answer is stored. After a 5xx or a network failure, refreshes back off.
 *
 * @module
 */
import type { Config } from '../config.js'
import { OAuthError } from '../errors.js'
import { redact } from '../provider/redact.js'
import { RECORD_VERSION, type AccessTokenRecord, type SessionRecord } from '../store/records.js'
import { accessKey, type TokenStore } from '../store/token-store.js'
import { createBackoff } from './backoff.js'
import { accessRecord, isFresh, SESSION_ENDING, type RefreshGrant, type Renew, type SignIn } from './token-records.js'
import type { WithLock } from './lock.js'
import type { Runner } from './runner.js'

/** One request of a token. */
export interface TokenRequest {
  key: string
  resource: string | undefined
  scope: string | undefined
  /** With `forceRefresh`: the token to replace (it is never handed out again). */
  stale: string | undefined
}

/** The coordinator. */
export interface Refresher {
  /** A fresh token for `request`, refreshing (or renewing) under the lock when needed. */
  token(request: TokenRequest): Promise<string>
}

/** What the coordinator needs. */
export interface RefresherDeps {
  config: Config
  store: TokenStore
  lock: WithLock
  lockName: string
  runner: Runner
  refreshGrant: RefreshGrant
  renew: Renew | undefined
  /** Stores a sign-in (or a renewal) under the lock already held. */
  save(data: SignIn): Promise<void>
}

const ended = () => new OAuthError('login_required', 'the session ended during the refresh')

/** Creates the refresh coordinator. */
export function createRefresher(deps: RefresherDeps): Refresher {
  const { config, store, runner } = deps
  const fresh = (r: AccessTokenRecord | undefined) => isFresh(config, r)
  const inflight = new Map<string, Promise<string>>()
  const backoff = createBackoff()

  /** The session cannot go on with its refresh token: renew silently if the app can, else end. */
  async function renewOrEnd(cause: OAuthError, s: SessionRecord, req: TokenRequest, attempt: number): Promise<string | undefined> {
    if (!runner.send('refreshRefused')) throw ended()
    // One renewal per request: a provider that refuses the renewed refresh token too ends the session.
    if (!deps.renew || attempt > 0) throw await runner.endWith('renewFailed', cause)
    let renewed: SignIn
    try {
      renewed = await deps.renew(cause)
      if (renewed.session.sub !== s.sub) {
        throw new OAuthError('login_required', 'silent renewal signed in another user: the session of the previous one ended')
      }
    } catch (e) {
      const error = e instanceof OAuthError ? e : new OAuthError('login_required', 'silent renewal failed', { cause: redact(e) })
      throw await runner.endWith('renewFailed', error)
    }
    if (runner.state !== 'renewing') throw ended()
    await deps.save(renewed)
    const record = accessRecord(renewed.tokens, s.sub, renewed.resource)
    runner.send('renewAnswer', { refreshed: { resource: renewed.resource, scope: record.scope, expiresAt: record.expiresAt } })
    const now = await store.readAccess(req.key)
    if (fresh(now) && now.token !== req.stale) return now.token
    // The renewal brought a token for another audience: the refresh goes on with its refresh token.
    return undefined
  }

  async function refreshLocked(req: TokenRequest, attempt = 0): Promise<string> {
    const s = await store.loadSession()
    if (!s || runner.state !== 'signedIn') throw new OAuthError('login_required', 'there is no session: sign in first')
    const current = await store.readAccess(req.key)
    // Another tab (or an earlier caller) refreshed while this one waited: adopt its token.
    if (fresh(current) && current.token !== req.stale) return current.token
    const rt = await store.readRefresh()
    if (!runner.send('refreshStart')) throw ended()
    if (!rt) {
      if (attempt > 0) {
        // A renewal brought no refresh token, and no token for this audience: ask for a sign-in.
        runner.send('refreshFailed')
        throw new OAuthError('login_required', 'silent renewal brought no token for this request: sign in to get one')
      }
      if (fresh(current) && !deps.renew) {
        // forceRefresh on a valid token, and nothing to refresh it with: the session goes on.
        runner.send('refreshFailed')
        throw new OAuthError('login_required', 'there is no refresh token: a new access token needs a new sign-in (the current one is still valid, and the session is kept)')
      }
      const cause = new OAuthError('login_required', fresh(current) ? 'there is no refresh token to replace the rejected access token' : 'the access token expired and there is no refresh token')
      return (await renewOrEnd(cause, s, req, attempt)) ?? retry(req, attempt)
    }
    let result
    try {
      result = await deps.refreshGrant(rt.token, { resource: req.resource, scope: req.scope }, s)
    } catch (e) {
      const error = e instanceof OAuthError ? e : new OAuthError('network_error', 'refresh failed', { cause: redact(e) })
      if (error.code === 'invalid_grant') {
        // Rotated by a tab that did not hold our lock? Adopt its tokens instead of ending.
        const again = await store.readRefresh().catch(() => undefined)
        const adopted = await store.readAccess(req.key).catch(() => undefined)
        if (fresh(adopted) && adopted.token !== req.stale) return runner.send('refreshFailed'), adopted.token
        if (again && again.token !== rt.token && attempt === 0) return runner.send('refreshFailed'), refreshLocked(req, 1)
        return (await renewOrEnd(error, s, req, attempt)) ?? retry(req, attempt)
      }
      if (SESSION_ENDING.has(error)) throw await runner.endWith('expire', error)
      if (error.code === 'network_error') backoff.failed(error)
      runner.send('refreshFailed')
      throw error
    }
    backoff.succeeded()
    // Ignored by the table when the session ended meanwhile: nothing of it is written.
    if (!runner.accepts('refreshAnswer')) throw ended()
    const record = accessRecord(result.tokens, s.sub, req.resource)
    await store.saveRefresh({
      access: { key: req.key, record },
      ...(result.tokens.refreshToken === undefined ? {} : { refresh: { v: RECORD_VERSION, sub: s.sub, token: result.tokens.refreshToken } }),
      ...(result.session ? { session: result.session } : {}),
    })
    runner.send('refreshAnswer', { refreshed: { resource: req.resource, scope: record.scope, expiresAt: record.expiresAt } })
    return record.token
  }

  /** After a renewal: one more pass (the renewed refresh token may serve another audience). */
  const retry = (req: TokenRequest, attempt: number): Promise<string> => refreshLocked({ ...req, stale: undefined }, attempt + 1)

  /** Settles as `work`, or rejects with `timeout` when the caller has waited too long. */
  function bounded(work: Promise<string>): Promise<string> {
    // From when the caller asked: lock wait, discovery and the grant together.
    const ms = config.requestTimeoutMs
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new OAuthError('timeout', 'refresh: the provider did not answer in time (the refresh goes on; its answer will be kept)')),
        ms,
      )
      work.then(
        (v) => (clearTimeout(timer), resolve(v)),
        (e: unknown) => (clearTimeout(timer), reject(e)),
      )
    })
  }

  return {
    token(req) {
      // No await between this check and inflight.set: concurrent callers share one refresh.
      const running = inflight.get(req.key)
      if (running) return bounded(running)
      const waiting = backoff.waiting()
      if (waiting) return Promise.reject(waiting)
      const p = deps.lock(deps.lockName, () => refreshLocked(req))
      inflight.set(req.key, p)
      const clear = () => {
        if (inflight.get(req.key) === p) inflight.delete(req.key)
      }
      p.then(clear, clear)
      return bounded(p)
    },
  }
}

export { accessKey }
export { accessRecord, endsSession, isFresh, refreshCeilingMs, SESSION_ENDING } from './token-records.js'
export type { RefreshGrant, RefreshResult, Renew, SignIn } from './token-records.js'
