// @vitest-environment happy-dom
import type { ReactNode } from 'react'
import { cleanup, renderHook } from '@testing-library/react'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { AuthProvider, useAuth } from '../../../src/react/index.js'
import { FakeClient, setLocation } from './fake-client.js'

beforeEach(() => setLocation('/'))
afterEach(() => cleanup())

describe('useAuth().loginWithPopup', () => {
  it('calls the client synchronously (in the click) with the options, and keeps its identity', async () => {
    const client = new FakeClient({ initial: { status: 'unauthenticated' } })
    const wrapper = ({ children }: { children: ReactNode }) => <AuthProvider client={client}>{children}</AuthProvider>
    const { result, rerender } = renderHook(() => useAuth(), { wrapper })
    const first = result.current.loginWithPopup
    const pending = first({ acrValues: ['urn:x:mfa'], timeoutSeconds: 30 })
    // No await in between: the window opens inside the caller's gesture.
    expect(client.popupCalls).toEqual([{ acrValues: ['urn:x:mfa'], timeoutSeconds: 30 }])
    await expect(pending).resolves.toEqual({ returnTo: '/', user: { sub: 'popup-user' } })
    rerender()
    expect(result.current.loginWithPopup).toBe(first)
  })
})
