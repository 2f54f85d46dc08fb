// The resource servers (RFC 8707) the provider issues JWT access tokens for, and how a
// request that names none is mapped to one (provider-shaped: Auth0's `audience`, Entra's scopes).

const DEFAULT_RESOURCE_SCOPE = 'api:read api:write'

function normalizeUri(value) {
  try {
    return new URL(value).href
  } catch {
    return undefined
  }
}

/**
 * @param {{ audience: string, scope?: string, accessTokenTTL?: number }[]} initialResources
 * @param {'audience'|'scope'} [defaultResourceFrom]
 */
export function createResources(initialResources, defaultResourceFrom) {
  const resources = []
  const addResource = ({ audience, scope = DEFAULT_RESOURCE_SCOPE, accessTokenTTL: ttl }) => {
    const href = normalizeUri(audience)
    if (!href) throw new TypeError(`startProvider: resource audience must be an absolute URI: ${audience}`)
    resources.push({ audience, href, scope, accessTokenTTL: ttl })
  }
  initialResources.forEach(addResource)
  const findResource = (indicator) => {
    const href = normalizeUri(indicator)
    return resources.find((r) => r.audience === indicator || r.href === href)
  }
  /** The resource a request means without a `resource` parameter: Auth0's `audience`, or Entra's `<audience>/<scope>`. */
  function resourceFromParams(params = {}) {
    if (defaultResourceFrom === 'audience' && params.audience) return findResource(params.audience)?.audience
    if (defaultResourceFrom === 'scope') {
      const scopes = String(params.scope ?? '').split(' ')
      return resources.find((r) => scopes.some((s) => s.startsWith(`${r.audience}/`)))?.audience
    }
    return undefined
  }
  return { resources, addResource, findResource, resourceFromParams }
}
