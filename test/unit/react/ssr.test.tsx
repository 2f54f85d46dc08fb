// @vitest-environment node
import { renderToString } from 'react-dom/server'
import type { ReactNode } from 'react'
import { describe, expect, it } from 'vitest'
import { AuthProvider, RequireAuth, useAuth } from '../../../src/react/index.js'
import { FakeClient } from './fake-client.js'

function Status(): ReactNode {
  const { status } = useAuth()
  return <p>status:{status}</p>
}

describe('server rendering', () => {
  it('runs with no window, location, history or IndexedDB', () => {
    expect(typeof window).toBe('undefined')
    expect(typeof indexedDB).toBe('undefined')
  })

  it('renders the loading state, whatever the client holds', () => {
    // The client's own snapshot is ignored on the server: the session is not known there.
    const client = new FakeClient({ initial: { status: 'authenticated', user: { sub: 'alice' } } })
    const html = renderToString(
      <AuthProvider client={client}>
        <Status />
        <RequireAuth fallback={<p>wait</p>}>
          <p>secret</p>
        </RequireAuth>
      </AuthProvider>,
    )
    expect(html).toContain('status:<!-- -->loading')
    expect(html).toContain('wait')
    expect(html).not.toContain('secret')
    expect(client.loginCalls).toEqual([])
  })
})

describe('server rendering with the real client', () => {
  it('renders the loading state with a client created on the server', async () => {
    const { createOAuthClient } = await import('../../../src/index.js')
    const client = createOAuthClient({
      issuer: 'https://op.example',
      clientId: 'ssr',
      redirectUri: 'https://app.example/callback',
    })
    const html = renderToString(
      <AuthProvider client={client}>
        <Status />
        <RequireAuth fallback={<p>wait</p>}>
          <p>secret</p>
        </RequireAuth>
      </AuthProvider>,
    )
    expect(html).toContain('status:<!-- -->loading')
    expect(html).not.toContain('secret')
  })
})

describe('server rendering with the client options as props', () => {
  it('renders the loading state (isLoading true), touching no browser global', () => {
    function Flags(): ReactNode {
      const { isLoading, isAuthenticated } = useAuth()
      return <p>flags:{`${isLoading}/${isAuthenticated}`}</p>
    }
    const html = renderToString(
      <AuthProvider issuer="https://op.example" clientId="ssr-props" redirectUri="https://app.example/callback">
        <Flags />
        <RequireAuth fallback={<p>wait</p>}>
          <p>secret</p>
        </RequireAuth>
      </AuthProvider>,
    )
    expect(html).toContain('flags:<!-- -->true/false')
    expect(html).toContain('wait')
    expect(html).not.toContain('secret')
  })
})
