// @vitest-environment happy-dom
import { StrictMode } from 'react'
import type { ReactNode } from 'react'
import { act, cleanup, render, renderHook, waitFor } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { OAuthError } from '../../../src/errors.js'
import { AuthProvider, useAuth, useAuthClient } from '../../../src/react/index.js'
import type { AuthState } from '../../../src/react/index.js'
import { FakeClient, setLocation } from './fake-client.js'
import { Status, statusText } from './status.js'


beforeEach(() => setLocation('/'))
afterEach(() => cleanup())

describe('AuthProvider', () => {
  it('goes from loading to authenticated', async () => {
    const client = new FakeClient()
    render(
      <AuthProvider client={client}>
        <Status />
      </AuthProvider>,
    )
    expect(statusText()).toBe('loading')
    act(() => client.setSnapshot({ status: 'authenticated', user: { sub: 'alice' } }))
    expect(statusText()).toBe('authenticated alice')
  })

  it('goes from loading to unauthenticated', () => {
    const client = new FakeClient()
    render(
      <AuthProvider client={client}>
        <Status />
      </AuthProvider>,
    )
    expect(statusText()).toBe('loading')
    act(() => client.setSnapshot({ status: 'unauthenticated' }))
    expect(statusText()).toBe('unauthenticated')
  })

  it('exposes the error of the client snapshot', () => {
    const client = new FakeClient({
      initial: { status: 'unauthenticated', error: new OAuthError('network_error', 'down') },
    })
    render(
      <AuthProvider client={client}>
        <Status />
      </AuthProvider>,
    )
    expect(statusText()).toBe('unauthenticated error:network_error')
  })

  it('flips to unauthenticated when another tab signs out', () => {
    const client = new FakeClient({ initial: { status: 'authenticated', user: { sub: 'alice' } } })
    render(
      <StrictMode>
        <AuthProvider client={client}>
          <Status />
        </AuthProvider>
      </StrictMode>,
    )
    expect(statusText()).toBe('authenticated alice')
    // The core relays the other tab's logout as a new snapshot and a notification.
    act(() => client.setSnapshot({ status: 'unauthenticated' }))
    expect(statusText()).toBe('unauthenticated')
  })

  it('unsubscribes on unmount', () => {
    const client = new FakeClient()
    const { unmount } = render(
      <StrictMode>
        <AuthProvider client={client}>
          <Status />
        </AuthProvider>
      </StrictMode>,
    )
    expect(client.listenerCount).toBe(1)
    unmount()
    expect(client.listenerCount).toBe(0)
  })

  it('follows a new client', () => {
    const a = new FakeClient({ initial: { status: 'authenticated', user: { sub: 'a' } } })
    const b = new FakeClient({ initial: { status: 'unauthenticated' } })
    const { rerender } = render(
      <AuthProvider client={a}>
        <Status />
      </AuthProvider>,
    )
    expect(statusText()).toBe('authenticated a')
    rerender(
      <AuthProvider client={b}>
        <Status />
      </AuthProvider>,
    )
    expect(statusText()).toBe('unauthenticated')
    expect(a.listenerCount).toBe(0)
  })
})

describe('useAuth', () => {
  it('keeps its functions identical across re-renders and state changes', () => {
    const client = new FakeClient()
    const wrapper = ({ children }: { children?: ReactNode }): ReactNode => (
      <StrictMode>
        <AuthProvider client={client} onRedirectCallback={() => {}}>
          {children}
        </AuthProvider>
      </StrictMode>
    )
    const { result, rerender } = renderHook(() => useAuth(), { wrapper })
    const first = result.current
    rerender()
    expect(result.current).toBe(first)
    act(() => client.setSnapshot({ status: 'authenticated', user: { sub: 'alice' } }))
    const second = result.current
    expect(second).not.toBe(first)
    expect(second.status).toBe('authenticated')
    for (const name of ['login', 'logout', 'getAccessToken', 'fetch'] as const) {
      expect(second[name], name).toBe(first[name])
    }
  })

  it('delegates to the client', async () => {
    const client = new FakeClient({ initial: { status: 'authenticated', user: { sub: 'alice' } } })
    const { result } = renderHook(() => useAuth(), {
      wrapper: ({ children }) => <AuthProvider client={client}>{children}</AuthProvider>,
    })
    await expect(result.current.getAccessToken()).resolves.toBe('access-token')
    const response = await result.current.fetch('https://api.example.com/x', { method: 'POST' })
    expect(await response.text()).toBe('ok')
    expect(client.fetchCalls).toEqual([['https://api.example.com/x', { method: 'POST' }]])
    void result.current.login({ prompt: 'login' })
    expect(client.loginCalls).toEqual([{ prompt: 'login' }])
    await act(() => result.current.logout({ localOnly: true }))
    expect(client.logoutCalls).toEqual([{ localOnly: true }])
    expect(result.current.status).toBe('unauthenticated')
  })

  it('exposes a failed login() as error', async () => {
    const client = new FakeClient({
      initial: { status: 'unauthenticated' },
      loginError: new OAuthError('configuration_error', 'bad issuer'),
    })
    const { result } = renderHook(() => useAuth(), {
      wrapper: ({ children }) => <AuthProvider client={client}>{children}</AuthProvider>,
    })
    await act(async () => {
      await expect(result.current.login()).rejects.toMatchObject({ code: 'configuration_error' })
    })
    expect(result.current.error?.code).toBe('configuration_error')
  })

  it('throws a helpful error outside <AuthProvider>', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      expect(() => renderHook(() => useAuth())).toThrow(
        /useAuth\(\) must be used inside <AuthProvider client=\{auth\}>/,
      )
      expect(() => renderHook(() => useAuthClient())).toThrow(/useAuthClient\(\) must be used inside/)
    } finally {
      spy.mockRestore()
    }
  })

  it('useAuthClient() returns the client', () => {
    const client = new FakeClient()
    const { result } = renderHook(() => useAuthClient(), {
      wrapper: ({ children }) => <AuthProvider client={client}>{children}</AuthProvider>,
    })
    expect(result.current).toBe(client)
  })
})

describe('redirect callback', () => {
  it('redeems the code once under StrictMode and calls onRedirectCallback once', async () => {
    setLocation('/callback?code=abc&state=xyz')
    const client = new FakeClient({ returnTo: '/orders?id=7#top', user: { sub: 'alice' } })
    const onRedirectCallback = vi.fn()
    render(
      <StrictMode>
        <AuthProvider client={client} onRedirectCallback={onRedirectCallback}>
          <Status />
        </AuthProvider>
      </StrictMode>,
    )
    await waitFor(() => expect(onRedirectCallback).toHaveBeenCalled())
    expect(statusText()).toBe('authenticated alice')
    expect(onRedirectCallback).toHaveBeenCalledTimes(1)
    expect(onRedirectCallback).toHaveBeenCalledWith('/orders?id=7#top', expect.objectContaining({ returnTo: '/orders?id=7#top', user: expect.objectContaining({ sub: 'alice' }) }))
    expect(client.tokenExchanges).toBe(1)
    expect(client.callbackCalls).toBe(1)
    // Nothing more happens later.
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(onRedirectCallback).toHaveBeenCalledTimes(1)
  })

  it('handles the callback once with two providers sharing a client', async () => {
    setLocation('/callback?code=abc&state=xyz')
    const client = new FakeClient({ returnTo: '/a' })
    const first = vi.fn()
    const second = vi.fn()
    render(
      <StrictMode>
        <AuthProvider client={client} onRedirectCallback={first}>
          <Status />
        </AuthProvider>
        <AuthProvider client={client} onRedirectCallback={second} />
      </StrictMode>,
    )
    await waitFor(() => expect(first.mock.calls.length + second.mock.calls.length).toBe(1))
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(first.mock.calls.length + second.mock.calls.length).toBe(1)
    expect(client.tokenExchanges).toBe(1)
  })

  it('does not call onRedirectCallback again when the provider remounts', async () => {
    setLocation('/callback?code=abc&state=xyz')
    const client = new FakeClient({ returnTo: '/a' })
    const onRedirectCallback = vi.fn()
    const tree = (
      <AuthProvider client={client} onRedirectCallback={onRedirectCallback}>
        <Status />
      </AuthProvider>
    )
    const { unmount } = render(tree)
    await waitFor(() => expect(onRedirectCallback).toHaveBeenCalledTimes(1))
    unmount()
    render(tree)
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(onRedirectCallback).toHaveBeenCalledTimes(1)
    expect(client.tokenExchanges).toBe(1)
  })

  it('uses the latest onRedirectCallback', async () => {
    setLocation('/callback?code=abc&state=xyz')
    const client = new FakeClient({ returnTo: '/a' })
    const stale = vi.fn()
    const latest = vi.fn()
    const { rerender } = render(<AuthProvider client={client} onRedirectCallback={stale} />)
    rerender(<AuthProvider client={client} onRedirectCallback={latest} />)
    await waitFor(() => expect(latest).toHaveBeenCalledWith('/a', expect.objectContaining({ returnTo: '/a' })))
    expect(stale).not.toHaveBeenCalled()
  })

  it('navigates with history.replaceState by default', async () => {
    setLocation('/callback?code=abc&state=xyz')
    const client = new FakeClient({ returnTo: '/orders?id=7#top' })
    render(
      <StrictMode>
        <AuthProvider client={client}>
          <Status />
        </AuthProvider>
      </StrictMode>,
    )
    await waitFor(() => expect(window.location.pathname).toBe('/orders'))
    expect(window.location.search).toBe('?id=7')
    expect(window.location.hash).toBe('#top')
    expect(client.tokenExchanges).toBe(1)
  })

  it('does nothing on a page that is not a callback', async () => {
    setLocation('/orders?code=abc&state=xyz')
    const client = new FakeClient({ initial: { status: 'unauthenticated' } })
    const onRedirectCallback = vi.fn()
    render(
      <StrictMode>
        <AuthProvider client={client} onRedirectCallback={onRedirectCallback} />
      </StrictMode>,
    )
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(client.callbackCalls).toBe(0)
    expect(onRedirectCallback).not.toHaveBeenCalled()
  })

  it('exposes a failed callback as error', async () => {
    setLocation('/callback?code=abc&state=xyz')
    const client = new FakeClient({ callbackError: new OAuthError('invalid_state', 'unknown state') })
    const onRedirectCallback = vi.fn()
    render(
      <StrictMode>
        <AuthProvider client={client} onRedirectCallback={onRedirectCallback}>
          <Status />
        </AuthProvider>
      </StrictMode>,
    )
    await waitFor(() => expect(statusText()).toBe('unauthenticated error:invalid_state'))
    expect(onRedirectCallback).not.toHaveBeenCalled()
    expect(client.tokenExchanges).toBe(1)
  })

  it('wraps a non-OAuthError callback failure', async () => {
    setLocation('/callback?code=abc&state=xyz')
    const cause = new TypeError('boom')
    const client = new FakeClient({ callbackError: cause })
    let seen: AuthState | undefined
    function Probe(): ReactNode {
      seen = useAuth()
      return null
    }
    render(
      <AuthProvider client={client}>
        <Probe />
      </AuthProvider>,
    )
    await waitFor(() => expect(seen?.error).toBeInstanceOf(OAuthError))
    expect(seen?.error?.code).toBe('invalid_callback')
    expect(seen?.error?.cause).toBe(cause)
  })

  it('treats callback_already_handled as done, not as an error', async () => {
    setLocation('/callback?code=abc&state=xyz')
    const client = new FakeClient({
      initial: { status: 'authenticated', user: { sub: 'alice' } },
      callbackError: new OAuthError('callback_already_handled', 'done before'),
    })
    const onRedirectCallback = vi.fn()
    render(
      <StrictMode>
        <AuthProvider client={client} onRedirectCallback={onRedirectCallback}>
          <Status />
        </AuthProvider>
      </StrictMode>,
    )
    await waitFor(() => expect(onRedirectCallback).toHaveBeenCalledWith('/', undefined))
    expect(onRedirectCallback).toHaveBeenCalledTimes(1)
    expect(statusText()).not.toContain('error')
  })

  it('does not leak a state update after unmount', async () => {
    setLocation('/callback?code=abc&state=xyz')
    const client = new FakeClient({ returnTo: '/a' })
    const onRedirectCallback = vi.fn()
    const { unmount } = render(<AuthProvider client={client} onRedirectCallback={onRedirectCallback} />)
    unmount()
    await new Promise((resolve) => setTimeout(resolve, 20))
    // The exchange ran once; nobody was mounted to navigate.
    expect(client.tokenExchanges).toBe(1)
    expect(onRedirectCallback).not.toHaveBeenCalled()
  })
})

describe('errors from another copy of the core', () => {
  it('recognises callback_already_handled without instanceof', async () => {
    setLocation('/callback?code=abc&state=xyz')
    // A second copy of the core's errors module (another bundle): same brand, other class.
    vi.resetModules()
    const other = await import('../../../src/errors.js')
    const client = new FakeClient({ callbackError: new other.OAuthError('callback_already_handled', 'done before') })
    const onRedirectCallback = vi.fn()
    render(
      <AuthProvider client={client} onRedirectCallback={onRedirectCallback}>
        <Status />
      </AuthProvider>,
    )
    await waitFor(() => expect(onRedirectCallback).toHaveBeenCalledWith('/', undefined))
    expect(statusText()).toBe('unauthenticated')
  })
})

describe('errors of the provider', () => {
  it('drops a callback error when the client changes', async () => {
    setLocation('/callback?code=abc&state=xyz')
    const failing = new FakeClient({ callbackError: new OAuthError('invalid_state', 'stale') })
    const other = new FakeClient({ initial: { status: 'unauthenticated' } })
    const { rerender } = render(
      <AuthProvider client={failing}>
        <Status />
      </AuthProvider>,
    )
    await waitFor(() => expect(statusText()).toBe('unauthenticated error:invalid_state'))
    rerender(
      <AuthProvider client={other}>
        <Status />
      </AuthProvider>,
    )
    expect(statusText()).toBe('unauthenticated')
  })

  it('drops a callback error once signed in', async () => {
    setLocation('/callback?code=abc&state=xyz')
    const client = new FakeClient({ callbackError: new OAuthError('invalid_state', 'stale') })
    render(
      <AuthProvider client={client}>
        <Status />
      </AuthProvider>,
    )
    await waitFor(() => expect(statusText()).toBe('unauthenticated error:invalid_state'))
    act(() => client.setSnapshot({ status: 'authenticated', user: { sub: 'alice' } }))
    expect(statusText()).toBe('authenticated alice')
  })
})
