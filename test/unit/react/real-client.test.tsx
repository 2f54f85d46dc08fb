// @vitest-environment happy-dom
/**
 * The React entry against the real core (`createOAuthClient` from the public entry), with
 * IndexedDB from fake-indexeddb and a stubbed provider (see mock-provider.ts).
 */
import 'fake-indexeddb/auto'
import { StrictMode } from 'react'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createOAuthClient } from '../../../src/index.js'
import type { OAuthClientOptions } from '../../../src/index.js'
import { AuthProvider, RequireAuth } from '../../../src/react/index.js'
import { setLocation } from './fake-client.js'
import { Status, statusText } from './status.js'
import { ISSUER, installMockProvider } from './mock-provider.js'
import type { MockProvider } from './mock-provider.js'


let counter = 0
/** Options of a fresh client: its own client id, hence its own IndexedDB namespace. */
function freshOptions(overrides: Partial<OAuthClientOptions> = {}): OAuthClientOptions {
  counter++
  return {
    issuer: ISSUER,
    clientId: `react-test-${counter}-${Math.random().toString(36).slice(2)}`,
    redirectUri: `${window.location.origin}/callback`,
    scope: 'openid profile',
    allowInsecureRequests: true, // the happy-dom page is http://localhost:3000
    ...overrides,
  }
}

let provider: MockProvider | undefined

beforeEach(() => setLocation('/'))
afterEach(() => {
  cleanup()
  provider?.restore()
  provider = undefined
})

/** A signed-out page under RequireAuth, which starts the login; resolves with the request's state. */
async function startGuardedLogin(options: OAuthClientOptions, from: string): Promise<string> {
  provider ??= installMockProvider(options.clientId)
  setLocation(from)
  const before = createOAuthClient(options)
  const first = render(
    <StrictMode>
      <AuthProvider client={before}>
        <RequireAuth fallback={<p>redirecting</p>}>
          <p>secret</p>
        </RequireAuth>
      </AuthProvider>
    </StrictMode>,
  )
  await waitFor(() => expect(provider?.navigations).toHaveLength(1))
  expect(screen.queryByText('secret')).toBeNull()
  first.unmount()
  return provider.lastAuthorization().searchParams.get('state') ?? ''
}

/** The page the provider sends the browser back to: a new page, a new client, under RequireAuth. */
function renderCallbackPage(options: OAuthClientOptions, path: string, onRedirectCallback?: (returnTo: string) => void): void {
  setLocation(path)
  const after = createOAuthClient(options)
  render(
    <StrictMode>
      <AuthProvider client={after} onRedirectCallback={onRedirectCallback}>
        <Status />
        <RequireAuth fallback={<p>redirecting</p>}>
          <p>secret</p>
        </RequireAuth>
      </AuthProvider>
    </StrictMode>,
  )
}

/** Signs in with `options` as a user would: RequireAuth starts the login, then the callback page. */
async function signIn(options: OAuthClientOptions, from = '/orders?id=7#top'): Promise<{ onRedirectCallback: ReturnType<typeof vi.fn> }> {
  const state = await startGuardedLogin(options, from)
  const onRedirectCallback = vi.fn()
  renderCallbackPage(options, `/callback?code=the-code&state=${state}`, onRedirectCallback)
  await waitFor(() => expect(onRedirectCallback).toHaveBeenCalled())
  return { onRedirectCallback }
}

describe('with the real client', () => {
  it('becomes unauthenticated without a session (memory storage)', async () => {
    const client = createOAuthClient(freshOptions({ storage: 'memory' }))
    render(
      <StrictMode>
        <AuthProvider client={client}>
          <Status />
        </AuthProvider>
      </StrictMode>,
    )
    await waitFor(() => expect(statusText()).toBe('unauthenticated'))
  })

  it('signs in under StrictMode: one login, one code exchange, one onRedirectCallback', async () => {
    const options = freshOptions()
    const { onRedirectCallback } = await signIn(options, '/orders?id=7#top')
    expect(provider?.navigations).toHaveLength(1)
    expect(provider?.tokenRequests).toHaveLength(1)
    expect(provider?.tokenRequests[0]?.get('code')).toBe('the-code')
    expect(onRedirectCallback).toHaveBeenCalledExactlyOnceWith('/orders?id=7#top', expect.objectContaining({ returnTo: '/orders?id=7#top', appState: undefined }))
    await waitFor(() => expect(statusText()).toBe('authenticated alice'))
    expect(screen.getByText('secret')).toBeTruthy()
    // The core scrubbed the authorization response from the address bar.
    expect(window.location.search).not.toContain('code=')
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(provider?.tokenRequests).toHaveLength(1)
    expect(onRedirectCallback).toHaveBeenCalledTimes(1)
  })

  it('leaves a callback URL loaded again after its sign-in completed alone: no exchange, no error, the session stays', async () => {
    const options = freshOptions()
    await signIn(options)
    const callbackUrl = `/callback?code=the-code&state=${provider?.lastAuthorization().searchParams.get('state') ?? ''}`
    cleanup()
    // The raw callback URL again (pasted, or from outside the tab's scrubbed history): a new page.
    setLocation(callbackUrl)
    const client = createOAuthClient(options)
    const onRedirectCallback = vi.fn()
    render(
      <StrictMode>
        <AuthProvider client={client} onRedirectCallback={onRedirectCallback}>
          <Status />
        </AuthProvider>
      </StrictMode>,
    )
    await waitFor(() => expect(statusText()).toBe('authenticated alice'))
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(onRedirectCallback).not.toHaveBeenCalled()
    expect(provider?.tokenRequests).toHaveLength(1)
  })

  it.each([
    ['a refused sign-in (error=access_denied)', 'authorization_error', (state: string) => `/callback?error=access_denied&error_description=no&state=${state}&iss=${encodeURIComponent(ISSUER)}`],
    ['a callback with its state twice', 'invalid_state', (state: string) => `/callback?code=the-code&state=${state}&state=${state}`],
  ])('%s under <RequireAuth> is shown (%s), not answered with another login (no loop back to the provider)', async (_name, code, callbackQuery) => {
    const options = freshOptions()
    const state = await startGuardedLogin(options, '/orders')
    renderCallbackPage(options, callbackQuery(state))
    await waitFor(() => expect(statusText()).toBe(`unauthenticated error:${code}`))
    // The core scrubbed the address bar; the guard must still know this page's callback failed.
    expect(window.location.search).not.toContain('state=')
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(provider?.navigations).toHaveLength(1)
  })

  it('flips to unauthenticated when another client of the same app logs out', async () => {
    const options = freshOptions()
    await signIn(options)
    cleanup()
    // Two tabs: two clients of the same issuer and client id over the same IndexedDB.
    setLocation('/account')
    const tabA = createOAuthClient(options)
    const tabB = createOAuthClient(options)
    render(
      <AuthProvider client={tabA}>
        <Status />
      </AuthProvider>,
    )
    await waitFor(() => expect(statusText()).toBe('authenticated alice'))
    await waitFor(() => expect(tabB.getSnapshot().status).toBe('authenticated'))
    await act(() => tabB.logout({ localOnly: true }))
    await waitFor(() => expect(statusText()).toBe('unauthenticated'))
  })
})
