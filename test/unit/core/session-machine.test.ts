/**
 * The session's transition table (every state × event has an outcome, walked through the real
 * runner), and the silent-renewal hook with a fake renew function.
 */
import { afterEach, describe, expect, it, vi } from 'vitest'
import { resolveConfig } from '../../../src/config.js'
import { OAuthError } from '../../../src/errors.js'
import { createEmitter } from '../../../src/session/events.js'
import { createLock } from '../../../src/session/lock.js'
import { EVENTS, HAS_SESSION, STATES, TABLE, type Effect, type SessionEvent, type SessionState } from '../../../src/session/machine.js'
import { createRefresher, type RefreshGrant, type Renew, type SignIn } from '../../../src/session/refresh.js'
import { createRunner } from '../../../src/session/runner.js'
import { createSession } from '../../../src/session/session.js'
import { createSnapshotStore } from '../../../src/session/snapshot.js'
import { createMemoryBackend } from '../../../src/store/memory.js'
import { createTokenStore } from '../../../src/store/token-store.js'
import { APP, ISSUER, uniqueClientId } from '../helpers/scripted-provider.js'

afterEach(() => vi.useRealTimers())

const loadRefresher = async () => createRefresher

const EFFECTS: readonly Effect[] = [
  'end', 'discard', 'loggedOut', 'loggedIn', 'publish', 'hold', 'settle', 'emitLogin', 'emitLogout', 'emitExpired',
  'emitRefreshed', 'postLogin', 'postLogout', 'postExpired', 'postRefreshed',
]

/** A path of events from `loading` to each state. */
const ROUTE: Record<SessionState, SessionEvent[]> = {
  loading: [],
  signedOut: ['notFound'],
  signedIn: ['found'],
  refreshing: ['found', 'refreshStart'],
  renewing: ['found', 'refreshStart', 'refreshRefused'],
  signingOut: ['found', 'logoutHere'],
  ended: ['found', 'expire'],
}

function parts() {
  const config = resolveConfig({ issuer: ISSUER, clientId: uniqueClientId(), redirectUri: `${APP}/callback`, storage: 'memory' })
  const store = createTokenStore(createMemoryBackend(), config.namespace)
  const snapshot = createSnapshotStore()
  const emitter = createEmitter()
  const posted: string[] = []
  const channel = { post: (m: { type: string }) => void posted.push(m.type), onMessage() {} }
  return { config, store, snapshot, emitter, channel, posted }
}

describe('the transition table', () => {
  it('has an outcome for every state × event, to a known state with known effects', () => {
    expect(Object.keys(TABLE).sort()).toEqual([...STATES].sort())
    for (const s of STATES) {
      expect(Object.keys(TABLE[s]).sort()).toEqual([...EVENTS].sort())
      for (const e of EVENTS) {
        const o = TABLE[s][e]
        if (o === 'ignore') continue
        expect(STATES).toContain(o.to)
        for (const effect of o.effects) expect(EFFECTS).toContain(effect)
      }
    }
  })

  it('walked through the runner: each pair lands where the table says, and the snapshot follows', () => {
    for (const s of STATES) {
      for (const e of EVENTS) {
        const { store, snapshot, emitter, channel } = parts()
        const runner = createRunner({ store, snapshot, emitter, channel })
        for (const step of ROUTE[s]) expect(runner.send(step), `${step} on the way to ${s}`).toBe(true)
        expect(runner.state).toBe(s)
        const o = TABLE[s][e]
        const accepted = runner.send(e, e === 'hold' ? { hold: {} } : {})
        expect(accepted, `${s} × ${e}`).toBe(o !== 'ignore')
        expect(runner.state, `${s} × ${e}`).toBe(o === 'ignore' ? s : o.to)
        if (runner.state !== 'loading' && e !== 'hold' && o !== 'ignore' && o.effects.includes('publish')) {
          expect(snapshot.get().status, `${s} × ${e}`).toBe(HAS_SESSION.has(runner.state) ? 'authenticated' : 'unauthenticated')
        }
      }
    }
  })

  it('another tab\'s logout or ended session leaves no session and nothing in memory, in every state but this page\'s own logout', () => {
    for (const s of STATES) {
      for (const e of ['remoteLogout', 'remoteExpired'] as const) {
        const o = TABLE[s][e]
        if (s === 'signingOut') {
          expect(o).toBe('ignore')
          continue
        }
        expect(o, `${s} × ${e}`).not.toBe('ignore')
        if (o === 'ignore') continue
        expect(HAS_SESSION.has(o.to)).toBe(false)
        expect(o.effects).toEqual(expect.arrayContaining(['end', 'discard']))
      }
    }
  })

  it('an answer is accepted only in the state that asked for it; an ended session is left only by a wipe or a sign-in', () => {
    for (const s of STATES) {
      expect(TABLE[s].refreshAnswer !== 'ignore').toBe(s === 'refreshing')
      expect(TABLE[s].renewAnswer !== 'ignore').toBe(s === 'renewing')
    }
    for (const s of ['ended', 'signingOut'] as const) {
      for (const e of EVENTS) {
        const o = TABLE[s][e]
        if (o !== 'ignore' && HAS_SESSION.has(o.to)) expect(['signIn', 'remoteSignIn']).toContain(e)
      }
    }
  })
})

describe('silent renewal hook', () => {
  const HOUR = 3600_000
  function signInData(sub: string, token: string, refreshToken?: string): SignIn {
    return {
      session: { v: 1, sub, idToken: undefined, claims: { sub }, scope: 'openid', createdAt: Date.now() },
      tokens: { accessToken: token, tokenType: 'bearer', expiresAt: Date.now() + HOUR, scope: 'openid', refreshToken, idToken: undefined },
      resource: undefined,
    }
  }
  async function session(opts: { refreshGrant?: RefreshGrant; renew?: Renew; refreshToken?: string }) {
    const p = parts()
    const refreshGrant = opts.refreshGrant ?? (() => Promise.reject(new OAuthError('invalid_grant', 'refresh token revoked', { error: 'invalid_grant' })))
    const s = createSession({ ...p, lock: createLock(), refreshGrant, loadRefresher, ...(opts.renew ? { renew: opts.renew } : {}) })
    await s.signIn(signInData('alice', 'at-1', opts.refreshToken))
    const expired: OAuthError[] = []
    p.emitter.on('session_expired', ({ error }) => expired.push(error))
    return { ...p, s, expired }
  }

  it('invalid_grant: renews before ending; concurrent callers share one renewal and get the new token; other tabs are told', async () => {
    const renew = vi.fn<Renew>(async () => signInData('alice', 'at-renewed', 'rt-renewed'))
    const { s, snapshot, posted, expired } = await session({ renew, refreshToken: 'rt-1' })
    const tokens = await Promise.all([1, 2, 3].map(() => s.getAccessToken({ forceRefresh: true })))
    expect(tokens).toEqual(['at-renewed', 'at-renewed', 'at-renewed'])
    expect(renew).toHaveBeenCalledTimes(1)
    expect(renew.mock.calls[0]![0]).toMatchObject({ code: 'invalid_grant' })
    expect(snapshot.get()).toMatchObject({ status: 'authenticated', user: { sub: 'alice' } })
    expect(posted).toContain('refreshed')
    expect(expired).toEqual([])
  })

  it('no refresh token and an expired access token: renews', async () => {
    const renew = vi.fn<Renew>(async () => signInData('alice', 'at-renewed'))
    const { s } = await session({ renew })
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(Date.now() + 2 * HOUR)
    await expect(s.getAccessToken()).resolves.toBe('at-renewed')
    expect(renew.mock.calls[0]![0].message).toMatch(/no refresh token/)
  })

  it('forceRefresh with a valid token and no refresh token: renews when it can', async () => {
    const renew = vi.fn<Renew>(async () => signInData('alice', 'at-renewed'))
    const { s } = await session({ renew })
    await expect(s.getAccessToken({ forceRefresh: true })).resolves.toBe('at-renewed')
  })

  it('another user comes back: the session ends, with that as the cause', async () => {
    const { s, snapshot, posted, expired } = await session({ renew: async () => signInData('mallory', 'at-m'), refreshToken: 'rt-1' })
    const e = await s.getAccessToken({ forceRefresh: true }).catch((x: unknown) => x)
    expect(e).toMatchObject({ code: 'login_required', cause: { message: /another user/ } })
    expect(snapshot.get().status).toBe('unauthenticated')
    expect(expired.map((x) => x.message)).toEqual([expect.stringMatching(/another user/)])
    expect(posted).toContain('expired')
    await expect(s.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
  })

  it('the renewal fails: the session ends as without it, with the failure as the cause', async () => {
    const failure = new OAuthError('authorization_error', 'login_required from the provider', { error: 'login_required' })
    const { s, snapshot, expired } = await session({ renew: () => Promise.reject(failure), refreshToken: 'rt-1' })
    await expect(s.getAccessToken({ forceRefresh: true })).rejects.toMatchObject({ code: 'login_required', cause: { code: 'authorization_error' } })
    expect(expired).toEqual([failure])
    expect(snapshot.get().status).toBe('unauthenticated')
  })

  it('a network failure of the refresh does not renew (the refresh token may still be good)', async () => {
    const renew = vi.fn<Renew>()
    const { s, snapshot } = await session({ renew, refreshToken: 'rt-1', refreshGrant: () => Promise.reject(new OAuthError('network_error', 'offline')) })
    await expect(s.getAccessToken({ forceRefresh: true })).rejects.toMatchObject({ code: 'network_error' })
    expect(renew).not.toHaveBeenCalled()
    expect(snapshot.get().status).toBe('authenticated')
  })

  it('without a renew function, invalid_grant ends the session as before', async () => {
    const { s, expired } = await session({ refreshToken: 'rt-1' })
    await expect(s.getAccessToken({ forceRefresh: true })).rejects.toMatchObject({ code: 'login_required' })
    expect(expired.map((x) => x.code)).toEqual(['invalid_grant'])
  })
})
