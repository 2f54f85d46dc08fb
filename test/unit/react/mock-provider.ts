/**
 * The provider the React tests of the real client talk to: the core tests' scripted provider
 * (test/unit/helpers/scripted-provider.ts), seen through the small surface these tests use.
 */
import { installScriptedProvider, json } from '../helpers/scripted-provider.js'

export { ISSUER } from '../helpers/scripted-provider.js'

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
  const p = installScriptedProvider()
  p.clientId = clientId
  p.sub = sub
  // These tests build callbacks without `iss`: the provider does not advertise RFC 9207 here.
  delete p.metadata['authorization_response_iss_parameter_supported']
  // Slow enough that a second exchange, if any, would overlap the first.
  p.token = async () => {
    await new Promise((resolve) => setTimeout(resolve, 5))
    return json(p.tokens())
  }
  return {
    get tokenRequests() {
      return p.to('/token').map((r) => new URLSearchParams(r.body))
    },
    navigations: p.navigations,
    lastAuthorization: () => p.lastAuthorization(),
    restore: () => p.restore(),
  }
}
