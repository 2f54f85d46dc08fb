// @vitest-environment happy-dom
import { StrictMode } from 'react'
import type { ReactNode } from 'react'
import { act, cleanup, render, screen, waitFor } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { OAuthError } from '../../../src/errors.js'
import { AuthProvider, RequireAuth, useAuth, withAuthRequired } from '../../../src/react/index.js'
import { FakeClient, setLocation } from './fake-client.js'

function Secret(): ReactNode {
  return <p>secret</p>
}

beforeEach(() => setLocation('/'))
afterEach(() => cleanup())

describe('RequireAuth', () => {
  it('renders the fallback while loading, and starts no login', async () => {
    const client = new FakeClient()
    render(
      <AuthProvider client={client}>
        <RequireAuth fallback={<p>wait</p>}>
          <Secret />
        </RequireAuth>
      </AuthProvider>,
    )
    expect(screen.getByText('wait')).toBeTruthy()
    expect(screen.queryByText('secret')).toBeNull()
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(client.loginCalls).toEqual([])
  })

  it('starts one login with the current path under StrictMode and never renders the children', async () => {
    setLocation('/orders/7?tab=items#line-3')
    const client = new FakeClient()
    render(
      <StrictMode>
        <AuthProvider client={client}>
          <RequireAuth fallback={<p>wait</p>} loginOptions={{ prompt: 'login' }}>
            <Secret />
          </RequireAuth>
          <RequireAuth>
            <Secret />
          </RequireAuth>
        </AuthProvider>
      </StrictMode>,
    )
    act(() => client.setSnapshot({ status: 'unauthenticated' }))
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(client.loginCalls).toEqual([{ prompt: 'login', returnTo: '/orders/7?tab=items#line-3' }])
    expect(screen.getByText('wait')).toBeTruthy()
    expect(screen.queryByText('secret')).toBeNull()
    // Re-renders while the page is leaving do not start another one.
    act(() => client.setSnapshot({ status: 'unauthenticated' }))
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(client.loginCalls).toHaveLength(1)
  })

  it('keeps an explicit returnTo', () => {
    setLocation('/here')
    const client = new FakeClient({ initial: { status: 'unauthenticated' } })
    render(
      <AuthProvider client={client}>
        <RequireAuth loginOptions={{ returnTo: '/there' }}>
          <Secret />
        </RequireAuth>
      </AuthProvider>,
    )
    expect(client.loginCalls).toEqual([{ returnTo: '/there' }])
  })

  it('renders the children once authenticated', () => {
    const client = new FakeClient()
    render(
      <StrictMode>
        <AuthProvider client={client}>
          <RequireAuth fallback={<p>wait</p>}>
            <Secret />
          </RequireAuth>
        </AuthProvider>
      </StrictMode>,
    )
    expect(screen.queryByText('secret')).toBeNull()
    act(() => client.setSnapshot({ status: 'authenticated', user: { sub: 'alice' } }))
    expect(screen.getByText('secret')).toBeTruthy()
    expect(screen.queryByText('wait')).toBeNull()
    expect(client.loginCalls).toEqual([])
  })

  it('hides the children and starts a login when another tab signs out', async () => {
    setLocation('/account')
    const client = new FakeClient({ initial: { status: 'authenticated', user: { sub: 'alice' } } })
    render(
      <StrictMode>
        <AuthProvider client={client}>
          <RequireAuth fallback={<p>wait</p>}>
            <Secret />
          </RequireAuth>
        </AuthProvider>
      </StrictMode>,
    )
    expect(screen.getByText('secret')).toBeTruthy()
    act(() => client.setSnapshot({ status: 'unauthenticated' }))
    expect(screen.queryByText('secret')).toBeNull()
    await waitFor(() => expect(client.loginCalls).toEqual([{ returnTo: '/account' }]))
  })

  it('starts no login on the callback page, and renders the children after it', async () => {
    setLocation('/callback?code=abc&state=xyz')
    // A core that says "unauthenticated" before the callback is redeemed must not cause a login.
    const client = new FakeClient({ initial: { status: 'unauthenticated' }, returnTo: '/orders' })
    const onRedirectCallback = vi.fn()
    render(
      <StrictMode>
        <AuthProvider client={client} onRedirectCallback={onRedirectCallback}>
          <RequireAuth fallback={<p>wait</p>}>
            <Secret />
          </RequireAuth>
        </AuthProvider>
      </StrictMode>,
    )
    expect(screen.getByText('wait')).toBeTruthy()
    await waitFor(() => expect(screen.getByText('secret')).toBeTruthy())
    expect(onRedirectCallback).toHaveBeenCalledExactlyOnceWith('/orders', expect.objectContaining({ returnTo: '/orders' }))
    expect(client.loginCalls).toEqual([])
    expect(client.tokenExchanges).toBe(1)
  })

  it('does not loop into a new login after a failed callback; the fallback can show the error', async () => {
    setLocation('/callback?code=abc&state=xyz')
    const client = new FakeClient({
      initial: { status: 'unauthenticated' },
      callbackError: new OAuthError('invalid_state', 'stale'),
    })
    function Fallback(): ReactNode {
      const { error } = useAuth()
      return <p>{error ? `failed:${error.code}` : 'wait'}</p>
    }
    render(
      <StrictMode>
        <AuthProvider client={client}>
          <RequireAuth fallback={<Fallback />}>
            <Secret />
          </RequireAuth>
        </AuthProvider>
      </StrictMode>,
    )
    await waitFor(() => expect(screen.getByText('failed:invalid_state')).toBeTruthy())
    await new Promise((resolve) => setTimeout(resolve, 10))
    expect(client.loginCalls).toEqual([])
  })

  it('exposes a failed login and allows a later mount to try again', async () => {
    setLocation('/x')
    const client = new FakeClient({
      initial: { status: 'unauthenticated' },
      loginError: new OAuthError('network_error', 'discovery failed'),
    })
    function Fallback(): ReactNode {
      const { error } = useAuth()
      return <p>{error ? `failed:${error.code}` : 'wait'}</p>
    }
    const tree = (
      <AuthProvider client={client}>
        <RequireAuth fallback={<Fallback />}>
          <Secret />
        </RequireAuth>
      </AuthProvider>
    )
    const { unmount } = render(tree)
    await waitFor(() => expect(screen.getByText('failed:network_error')).toBeTruthy())
    expect(client.loginCalls).toHaveLength(1)
    unmount()
    render(tree)
    await waitFor(() => expect(client.loginCalls).toHaveLength(2))
  })

  it('throws a helpful error outside <AuthProvider>', () => {
    const spy = vi.spyOn(console, 'error').mockImplementation(() => {})
    try {
      expect(() => render(<RequireAuth />)).toThrow(/<RequireAuth> must be used inside <AuthProvider/)
    } finally {
      spy.mockRestore()
    }
  })
})

describe('withAuthRequired', () => {
  function Greeting({ name }: { name: string }): ReactNode {
    return <p>hello {name}</p>
  }

  it('wraps a component in RequireAuth and passes its props', async () => {
    setLocation('/greet?x=1')
    const Protected = withAuthRequired(Greeting, {
      fallback: <p>wait</p>,
      loginOptions: { loginHint: 'ada' },
    })
    expect(Protected.displayName).toBe('withAuthRequired(Greeting)')
    const client = new FakeClient()
    render(
      <StrictMode>
        <AuthProvider client={client}>
          <Protected name="Ada" />
        </AuthProvider>
      </StrictMode>,
    )
    expect(screen.getByText('wait')).toBeTruthy()
    act(() => client.setSnapshot({ status: 'unauthenticated' }))
    await waitFor(() => expect(client.loginCalls).toEqual([{ loginHint: 'ada', returnTo: '/greet?x=1' }]))
    expect(screen.queryByText('hello Ada')).toBeNull()
    act(() => client.setSnapshot({ status: 'authenticated', user: { sub: 'ada' } }))
    expect(screen.getByText('hello Ada')).toBeTruthy()
    expect(client.loginCalls).toHaveLength(1)
  })
})
