// @vitest-environment node
/**
 * Created on a server (no window, no IndexedDB): no throw, no browser API touched at import or
 * creation, storage_fallback reported, status unauthenticated, and no cross-tab channel opened
 * (an open BroadcastChannel would keep a Node server process alive).
 */
import { describe, expect, it, vi } from 'vitest'
import { createOAuthClient } from '../../../src/index.js'
import { openTabChannel } from '../../../src/session/channel.js'

describe('server rendering', () => {
  it('createOAuthClient works without window or IndexedDB and settles unauthenticated', async () => {
    expect(typeof window).toBe('undefined')
    const auth = createOAuthClient({ issuer: 'https://op.example', clientId: 'x', redirectUri: 'https://app.example/cb' })
    const fallback = vi.fn()
    auth.on('storage_fallback', fallback)
    await vi.waitFor(() => expect(fallback).toHaveBeenCalledOnce())
    await vi.waitFor(() => expect(auth.getSnapshot().status).toBe('unauthenticated'))
    expect(auth.isRedirectCallback('https://app.example/cb?code=1&state=2')).toBe(true)
    await expect(auth.getAccessToken()).rejects.toMatchObject({ code: 'login_required' })
    await expect(auth.login()).rejects.toMatchObject({ code: 'configuration_error' })
  })

  it('no BroadcastChannel is opened without a window', () => {
    const spy = vi.spyOn(globalThis, 'BroadcastChannel')
    const channel = openTabChannel('ns')
    channel.onMessage(() => undefined)
    channel.post({ type: 'logout' })
    expect(spy).not.toHaveBeenCalled()
  })
})
