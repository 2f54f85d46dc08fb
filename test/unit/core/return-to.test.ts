import { describe, expect, it } from 'vitest'
import { sameOriginPath } from '../../../src/redirect/return-to.js'

const origin = 'https://app.example'

describe('returnTo is only ever a same-origin path (checklist 11)', () => {
  it.each([
    ['/dashboard?tab=1#top', '/dashboard?tab=1#top'],
    ['dashboard', '/dashboard'],
    ['https://app.example/x', '/x'],
    ['https://APP.example:443/x', '/x'],
  ])('%s → %s', (input, expected) => {
    expect(sameOriginPath(input, origin)).toBe(expected)
  })

  it.each([
    'https://evil.example',
    '//evil.example',
    '/\\evil.example',
    '\\\\evil.example',
    'javascript:alert(1)',
    'https:evil.example',
    'https://app.example@evil.example/',
    'http://app.example/x',
    'https://app.example:8443/x',
    'data:text/html,hi',
    '/\t/evil.example',
    '',
  ])('refuses %s', (input) => {
    expect(sameOriginPath(input, origin)).toBeUndefined()
  })

  it('an encoded //evil stays a path on the app origin', () => {
    expect(sameOriginPath('%2F%2Fevil.example', origin)).toBe('/%2F%2Fevil.example')
  })
  it('refuses non-strings', () => {
    expect(sameOriginPath(42, origin)).toBeUndefined()
    expect(sameOriginPath(undefined, origin)).toBeUndefined()
  })
})
