// @vitest-environment happy-dom
/**
 * The React ergonomics of issue 17: `isAuthenticated`/`isLoading`, `getIdToken`, typed claims,
 * `appState` to `onRedirectCallback`, and `<AuthProvider>` given the client options as props.
 */
import 'fake-indexeddb/auto'
import { StrictMode } from 'react'
import type { ReactNode } from 'react'
import { act, cleanup, render, renderHook, screen, waitFor } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { OAuthClient, OAuthClientOptions, User } from '../../../src/index.js'
import { AuthProvider, RequireAuth, useAuth, useAuthClient } from '../../../src/react/index.js'
import { FakeClient, setLocation } from './fake-client.js'
import { ISSUER, installMockProvider } from './mock-provider.js'
import type { MockProvider } from './mock-provider.js'
import { Status, statusText } from './status.js'

let provider: MockProvider | undefined
beforeEach(() => setLocation('/'))
afterEach(() => {
  cleanup()
  provider?.restore()
  provider = undefined
})

const wrapperFor = (client: OAuthClient) =>
  function Wrapper({ children }: { children: ReactNode }) {
    return <AuthProvider client={client}>{children}</AuthProvider>
  }

describe('useAuth(): isAuthenticated, isLoading, getIdToken', () => {
  it('derive from status through loading → authenticated → unauthenticated', () => {
    const client = new FakeClient()
    const { result } = renderHook(() => useAuth(), { wrapper: wrapperFor(client) })
    expect(result.current).toMatchObject({ status: 'loading', isLoading: true, isAuthenticated: false })
    act(() => client.setSnapshot({ status: 'authenticated', user: { sub: 'alice' } }))
    expect(result.current).toMatchObject({ status: 'authenticated', isLoading: false, isAuthenticated: true })
    act(() => client.setSnapshot({ status: 'unauthenticated' }))
    expect(result.current).toMatchObject({ status: 'unauthenticated', isLoading: false, isAuthenticated: false })
  })

  it('getIdToken delegates to the client and keeps its identity across state changes', async () => {
    const client = new FakeClient({ initial: { status: 'authenticated', user: { sub: 'alice' } }, idToken: 'h.p.s' })
    const { result } = renderHook(() => useAuth(), { wrapper: wrapperFor(client) })
    const first = result.current.getIdToken
    await expect(first()).resolves.toBe('h.p.s')
    act(() => client.setSnapshot({ status: 'unauthenticated' }))
    expect(result.current.getIdToken).toBe(first)
    await expect(result.current.getIdToken()).resolves.toBeUndefined()
  })

  it('standard claims are typed: user.email, user.picture, user.email_verified need no cast', () => {
    const user: User = { sub: 'alice', email: 'a@example.com', email_verified: true, picture: 'https://img.example/a.png', name: 'Alice' }
    const client = new FakeClient({ initial: { status: 'authenticated', user } })
    function Card(): ReactNode {
      const { user: u } = useAuth()
      return (
        <p data-testid="card">
          {u?.name} {u?.email} {u?.email_verified ? 'verified' : 'unverified'} <img alt="" src={u?.picture} />
        </p>
      )
    }
    render(
      <AuthProvider client={client}>
        <Card />
      </AuthProvider>,
    )
    expect(screen.getByTestId('card').textContent).toBe('Alice a@example.com verified ')
    expect(screen.getByTestId('card').querySelector('img')?.getAttribute('src')).toBe('https://img.example/a.png')
  })
})

describe('onRedirectCallback(returnTo, result)', () => {
  it('gets the appState of the sign-in, once, under StrictMode', async () => {
    setLocation('/callback?code=abc&state=xyz')
    const appState = { tab: 'billing', draft: { id: 7 } }
    const client = new FakeClient({ returnTo: '/settings', user: { sub: 'alice' }, appState })
    const onRedirectCallback = vi.fn()
    render(
      <StrictMode>
        <AuthProvider client={client} onRedirectCallback={onRedirectCallback}>
          <Status />
        </AuthProvider>
      </StrictMode>,
    )
    await waitFor(() => expect(onRedirectCallback).toHaveBeenCalled())
    expect(onRedirectCallback).toHaveBeenCalledExactlyOnceWith('/settings', expect.objectContaining({ returnTo: '/settings', user: { sub: 'alice' }, appState }))
  })
})

let counter = 0
function freshOptions(overrides: Partial<OAuthClientOptions> = {}): OAuthClientOptions {
  counter++
  return {
    issuer: ISSUER,
    clientId: `react-options-${counter}-${Math.random().toString(36).slice(2)}`,
    redirectUri: `${window.location.origin}/callback`,
    scope: 'openid profile',
    allowInsecureRequests: true,
    ...overrides,
  }
}

describe('<AuthProvider> given the client options as props', () => {
  it('makes one client for equal options: StrictMode, re-renders with new objects, a remount, a second provider', () => {
    const options = freshOptions({ storage: 'memory', resource: ['https://api.example'] })
    const seen: OAuthClient[] = []
    function Probe(): ReactNode {
      seen.push(useAuthClient())
      return null
    }
    const { rerender, unmount } = render(
      <StrictMode>
        <AuthProvider {...options}>
          <Probe />
        </AuthProvider>
      </StrictMode>,
    )
    // New objects, same values, keys in another order.
    const reordered = Object.fromEntries(Object.entries({ ...options, resource: ['https://api.example'] }).reverse()) as unknown as OAuthClientOptions
    rerender(
      <StrictMode>
        <AuthProvider {...reordered}>
          <Probe />
        </AuthProvider>
      </StrictMode>,
    )
    unmount()
    render(
      <AuthProvider {...options}>
        <Probe />
      </AuthProvider>,
    )
    expect(seen.length).toBeGreaterThanOrEqual(4)
    expect(new Set(seen).size).toBe(1)
    // Other options: another client.
    const other = freshOptions({ storage: 'memory' })
    render(
      <AuthProvider {...other}>
        <Probe />
      </AuthProvider>,
    )
    expect(new Set(seen).size).toBe(2)
  })

  it('bad options throw configuration_error while rendering (an error boundary sees it)', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => undefined)
    expect(() =>
      render(
        <AuthProvider issuer="not a url" clientId="x" redirectUri="https://app.example/cb">
          <p>app</p>
        </AuthProvider>,
      ),
    ).toThrow(expect.objectContaining({ code: 'configuration_error' }))
    spy.mockRestore()
  })

  it('signs in through the real core: RequireAuth starts the login with appState, the callback page gives it back', async () => {
    const options = freshOptions()
    provider = installMockProvider(options.clientId)
    setLocation('/reports?q=1')
    const first = render(
      <StrictMode>
        <AuthProvider {...options}>
          <RequireAuth fallback={<p>redirecting</p>} loginOptions={{ appState: { from: 'reports', filters: [1, 2] } }}>
            <p>secret</p>
          </RequireAuth>
        </AuthProvider>
      </StrictMode>,
    )
    await waitFor(() => expect(provider?.navigations).toHaveLength(1))
    expect(provider.lastAuthorization().href).not.toContain('reports')
    first.unmount()
    const state = provider.lastAuthorization().searchParams.get('state') ?? ''
    // The callback page (in a real browser a new page, here the same module: the same client).
    setLocation(`/callback?code=the-code&state=${state}`)
    const onRedirectCallback = vi.fn()
    render(
      <StrictMode>
        <AuthProvider {...options} onRedirectCallback={onRedirectCallback}>
          <Status />
        </AuthProvider>
      </StrictMode>,
    )
    await waitFor(() => expect(onRedirectCallback).toHaveBeenCalled())
    expect(onRedirectCallback).toHaveBeenCalledExactlyOnceWith('/reports?q=1', expect.objectContaining({ appState: { from: 'reports', filters: [1, 2] }, user: expect.objectContaining({ sub: 'alice' }) }))
    await waitFor(() => expect(statusText()).toBe('authenticated alice'))
    expect(provider.tokenRequests).toHaveLength(1)
  })
})
