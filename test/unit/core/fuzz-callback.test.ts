/**
 * Fuzzing handleRedirectCallback: generated callback URLs only ever resolve for the genuine
 * transaction, or reject with an OAuthError; nothing is stored for the rest. Seeded, so a failure
 * is reproducible (the seed and the URL are in the assertion message).
 */
import 'fake-indexeddb/auto'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createOAuthClient, OAuthError } from '../../../src/index.js'
import type { OAuthClient } from '../../../src/index.js'
import { APP, callbackUrl, clientOptions, installScriptedProvider, ISSUER, startLogin, type ScriptedProvider } from '../helpers/scripted-provider.js'
import { dumpNamespace } from '../helpers/idb.js'

/** mulberry32: a tiny seeded PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const SEED = Number(process.env['FUZZ_SEED'] ?? 20261122)
const TOKEN_STORES = ['access_tokens', 'id_tokens', 'refresh_tokens']

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)]!
}

const NASTY = ['', ' ', '%00', '\u0000', '<script>alert(1)</script>', 'é', '../..', '%2F%2Fevil', 'a'.repeat(5000), '"', "'", '&state=x', '#frag', '\r\n', '🙂']

function randomValue(r: () => number): string {
  const choice = r()
  if (choice < 0.4) return pick(r, NASTY)
  if (choice < 0.8) return Math.random().toString(36).slice(2)
  return Array.from({ length: Math.floor(r() * 40) }, () => String.fromCharCode(32 + Math.floor(r() * 95))).join('')
}

/** A callback URL built from pieces: right or wrong path, state, code, iss, error, junk. */
function generate(r: () => number, genuine: URL | undefined): URL {
  const base = pick(r, [`${APP}/callback`, `${APP}/callback/`, `${APP}/other`, 'https://evil.example/callback', `${APP}/CALLBACK`])
  const url = new URL(base)
  const q = url.searchParams
  const state = genuine?.searchParams.get('state') ?? ''
  const stateChoice = r()
  if (stateChoice < 0.45 && genuine) q.append('state', state)
  else if (stateChoice < 0.8) q.append('state', randomValue(r))
  if (r() < 0.1 && genuine) q.append('state', r() < 0.5 ? state : randomValue(r))
  if (r() < 0.8) q.append('code', randomValue(r))
  if (r() < 0.1) q.append('code', randomValue(r))
  const iss = r()
  if (iss < 0.5) q.append('iss', ISSUER)
  else if (iss < 0.8) q.append('iss', pick(r, [`${ISSUER}/`, 'https://evil.example', randomValue(r), ISSUER.toUpperCase()]))
  if (r() < 0.25) q.append('error', pick(r, ['access_denied', 'server_error', randomValue(r)]))
  if (r() < 0.15) q.append('error_description', randomValue(r))
  if (r() < 0.1) q.append(pick(r, ['id_token', 'token', 'access_token', 'response']), randomValue(r))
  if (r() < 0.2) q.append(randomValue(r) || 'x', randomValue(r))
  return url
}

let p: ScriptedProvider
let auth: OAuthClient
beforeEach(() => {
  p = installScriptedProvider()
  window.history.replaceState(null, '', `${APP}/`)
  auth = createOAuthClient(clientOptions(p))
})
afterEach(() => p.restore())

describe(`fuzz handleRedirectCallback (seed ${SEED})`, () => {
  it('2000 generated callbacks with no pending sign-in: every one rejects with OAuthError, nothing stored, nothing sent to the token endpoint', async () => {
    const r = prng(SEED)
    for (let i = 0; i < 2000; i++) {
      const url = generate(r, undefined)
      const outcome = await auth.handleRedirectCallback(url.href).then(
        () => 'resolved',
        (e: unknown) => (e instanceof OAuthError ? e.code : `not an OAuthError: ${String(e)}`),
      )
      expect(['invalid_state', 'invalid_callback', 'callback_already_handled'], `#${i} ${url.href.slice(0, 300)}`).toContain(outcome)
    }
    expect(p.to('/token')).toHaveLength(0)
    expect(await dumpNamespace(p.clientId, TOKEN_STORES)).toEqual({})
  }, 120_000)

  it('300 sign-ins, each answered by a generated callback: it resolves only for a genuine, well-formed callback, otherwise rejects with OAuthError and stores nothing', async () => {
    const r = prng(SEED + 1)
    let resolved = 0
    for (let i = 0; i < 300; i++) {
      await startLogin(auth, p)
      const real = new URL(callbackUrl(p))
      const url = generate(r, real)
      const q = url.searchParams
      // What a correct client must accept: the redirect URI, exactly one state equal to the
      // pending one, one code, the right iss, no error, and no front-channel token.
      const wellFormed =
        url.origin + url.pathname === `${APP}/callback` &&
        q.getAll('state').length === 1 &&
        q.get('state') === real.searchParams.get('state') &&
        q.getAll('code').length === 1 &&
        q.getAll('iss').length === 1 &&
        q.get('iss') === ISSUER &&
        !q.has('error') &&
        !q.has('id_token') &&
        !q.has('token') &&
        !q.has('response')
      const before = JSON.stringify(await dumpNamespace(p.clientId, TOKEN_STORES))
      const outcome = await auth.handleRedirectCallback(url.href).then(
        () => 'resolved',
        (e: unknown) => (e instanceof OAuthError ? e.code : `not an OAuthError: ${String(e)}`),
      )
      const label = `#${i} ${url.href.slice(0, 300)}`
      if (wellFormed) {
        expect(outcome, label).toBe('resolved')
        resolved++
      } else {
        expect(outcome, label).not.toBe('resolved')
        expect(outcome, label).not.toMatch(/^not an OAuthError/)
        expect(JSON.stringify(await dumpNamespace(p.clientId, TOKEN_STORES)), label).toBe(before)
      }
    }
    // The generator must reach both sides, or the test proves nothing.
    expect(resolved).toBeGreaterThan(5)
    expect(resolved).toBeLessThan(295)
  }, 180_000)
})
