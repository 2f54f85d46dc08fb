/** A component that shows `useAuth()`'s status, user and error code, and how to read it back. */
import type { ReactNode } from 'react'
import { screen } from '@testing-library/react'
import { useAuth } from '../../../src/react/index.js'

export function Status(): ReactNode {
  const { status, user, error } = useAuth()
  return (
    <p data-testid="status">
      {status}
      {user ? ` ${user.sub}` : ''}
      {error ? ` error:${error.code}` : ''}
    </p>
  )
}

export const statusText = (): string => screen.getByTestId('status').textContent ?? ''
