/**
 * A stubbed OpenID Provider for tests of the real client: answers discovery and the token
 * endpoint through a `fetch` stub, and captures the page's navigations (`location.assign`).
 * ID tokens carry a dummy signature: oauth4webapi does not verify the signature of an ID token
 * received from the token endpoint over TLS.
 */
import { vi } from 'vitest'

export const ISSUER = 'https://op.example'

const b64u = (value: unknown): string =>
  btoa(JSON.stringify(value)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')

function json(body: unknown, status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
}

export interface MockProvider {
  /** Bodies of the requests to the token endpoint. */
  readonly tokenRequests: URLSearchParams[]
  /** URLs given to `location.assign` (authorization and end-session requests). */
  readonly navigations: string[]
  /** The last authorization request, parsed. */
  lastAuthorization(): URL
  restore(): void
}

/** Installs the provider's `fetch` stub and a `location.assign` spy. */
export function installMockProvider(clientId: string, sub = 'alice'): MockProvider {
  const tokenRequests: URLSearchParams[] = []
  const navigations: string[] = []
  const assign = vi.spyOn(window.location, 'assign').mockImplementation((url: string | URL) => {
    navigations.push(String(url))
  })

  const lastAuthorization = (): URL => {
    const url = [...navigations].reverse().find((u) => u.startsWith(`${ISSUER}/authorize`))
    if (url === undefined) throw new Error('no authorization request was made')
    return new URL(url)
  }

  vi.stubGlobal('fetch', async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input))
    if (url.href === `${ISSUER}/.well-known/openid-configuration`) {
      return json({
        issuer: ISSUER,
        authorization_endpoint: `${ISSUER}/authorize`,
        token_endpoint: `${ISSUER}/token`,
        jwks_uri: `${ISSUER}/jwks`,
        response_types_supported: ['code'],
        subject_types_supported: ['public'],
        id_token_signing_alg_values_supported: ['RS256'],
        code_challenge_methods_supported: ['S256'],
      })
    }
    if (url.href === `${ISSUER}/token`) {
      const body = new URLSearchParams(input instanceof Request ? await input.text() : String(init?.body ?? ''))
      tokenRequests.push(body)
      // Slow enough that a second exchange, if any, would overlap the first.
      await new Promise((resolve) => setTimeout(resolve, 5))
      const now = Math.floor(Date.now() / 1000)
      const nonce = lastAuthorization().searchParams.get('nonce')
      const idToken = [
        b64u({ alg: 'RS256', typ: 'JWT' }),
        b64u({ iss: ISSUER, sub, aud: clientId, iat: now, exp: now + 300, nonce, name: 'Alice' }),
        'c2lnbmF0dXJl',
      ].join('.')
      return json({
        access_token: `at-${tokenRequests.length}`,
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: `rt-${tokenRequests.length}`,
        scope: body.get('scope') ?? 'openid profile',
        id_token: idToken,
      })
    }
    return json({ error: 'not_found' }, 404)
  })

  return {
    tokenRequests,
    navigations,
    lastAuthorization,
    restore() {
      assign.mockRestore()
      vi.unstubAllGlobals()
    },
  }
}
