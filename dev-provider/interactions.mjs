// The provider's interaction pages (/interaction/:uid): the sign-in form, the test-login cookie
// shortcut, cancel, and automatic first-party consent; plus the acr rules a login must meet.
import { interactionPolicy } from 'oidc-provider'

import { OIDC_SCOPES } from './accounts.mjs'
import { loginPage, sendHtml } from './pages.mjs'
import { readBody } from './util.mjs'

export const TEST_LOGIN_COOKIE = 'oauth_spa_test_user'

function testLoginUser(req, users) {
  for (const part of String(req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=')
    if (i !== -1 && part.slice(0, i).trim() === TEST_LOGIN_COOKIE) {
      const name = decodeURIComponent(part.slice(i + 1).trim())
      return [...users.values()].find((u) => u.username === name)
    }
  }
  return undefined
}

/** The default interaction policy, plus: the session's acr must be one the request's acr_values asks for. */
export function acrPolicy() {
  const { base, Check } = interactionPolicy
  const policy = base()
  policy.get('login').checks.add(new Check('acr_values', 'the requested authentication context is not met', (ctx) => {
    const requested = String(ctx.oidc.params.acr_values ?? '').split(' ').filter(Boolean)
    if (requested.length === 0 || !ctx.oidc.session.accountId) return Check.NO_NEED_TO_PROMPT
    // A login that just happened in this request recorded what was asked for (see acrFor).
    if (ctx.oidc.result?.login || requested.includes(ctx.oidc.acr)) return Check.NO_NEED_TO_PROMPT
    return Check.REQUEST_PROMPT
  }))
  return policy
}

/** The acr a login records: the strongest supported value the request asked for, else the weakest. */
function acrFor(acrValues, params) {
  if (!acrValues) return undefined
  const requested = new Set(String(params.acr_values ?? '').split(' ').filter(Boolean))
  return [...acrValues].reverse().find((v) => requested.has(v)) ?? acrValues[0]
}

export function createInteractionHandler({ provider, users, stats, log, findResource, resourceFromParams = () => undefined, testLogin = false, acrValues }) {
  return async function interactions(req, res) {
    res.setHeader('Cache-Control', 'no-store')
    res.setHeader('Content-Security-Policy', "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'")
    const url = new URL(req.url, 'http://127.0.0.1')
    const match = /^\/interaction\/([^/]+)(?:\/(login|abort))?$/.exec(url.pathname)
    if (!match) {
      res.statusCode = 404
      res.end()
      return
    }
    const [, uid, action] = match
    const details = await provider.interactionDetails(req, res)
    if (details.uid !== uid) throw Object.assign(new Error('interaction mismatch'), { statusCode: 400 })
    const { prompt, params } = details

    if (req.method === 'GET' && !action) {
      if (prompt.name === 'login') {
        const testUser = testLogin ? testLoginUser(req, users) : undefined
        if (testUser) {
          stats.logins.ok += 1
          log('interaction.test_login', { sub: testUser.sub })
          const grantId = await grantRequested(provider, details, testUser.sub, findResource, resourceFromParams)
          await provider.interactionFinished(req, res, { login: { accountId: testUser.sub }, consent: { grantId } }, { mergeWithLastSubmission: false })
          return
        }
        sendHtml(res, 200, loginPage({ uid, params, error: undefined, users }))
        log('interaction.login_page', { clientId: params.client_id })
        return
      }
      // Any other prompt (consent) for these first-party clients: grant what was asked for.
      const grantId = await grantRequested(provider, details, details.session?.accountId, findResource, resourceFromParams)
      log('interaction.auto_consent', { prompt: prompt.name })
      await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true })
      return
    }

    if (req.method === 'POST' && action === 'abort') {
      await readBody(req)
      stats.logins.aborted += 1
      log('interaction.abort')
      await provider.interactionFinished(req, res, {
        error: 'access_denied',
        error_description: 'End-User aborted interaction',
      }, { mergeWithLastSubmission: false })
      return
    }

    if (req.method === 'POST' && action === 'login') {
      const form = new URLSearchParams(await readBody(req))
      const login = form.get('login') ?? ''
      const password = form.get('password') ?? ''
      const user = [...users.values()].find((u) => u.username === login && u.password === password)
      if (!user) {
        stats.logins.failed += 1
        log('interaction.login_failed')
        sendHtml(res, 200, loginPage({ uid, params, error: 'Invalid username or password.', login, users }))
        return
      }
      stats.logins.ok += 1
      log('interaction.login', { sub: user.sub })
      const grantId = await grantRequested(provider, details, user.sub, findResource, resourceFromParams)
      const acr = acrFor(acrValues, params)
      await provider.interactionFinished(req, res, {
        login: { accountId: user.sub, ...(acr ? { acr } : {}) },
        consent: { grantId },
      }, { mergeWithLastSubmission: false })
      return
    }

    res.statusCode = 405
    res.end()
  }
}

// First-party consent: grant every OIDC scope and resource scope that was requested.
async function grantRequested(provider, details, accountId, findResource, resourceFromParams = () => undefined) {
  const { params, grantId: existing } = details
  let grant = existing ? await provider.Grant.find(existing) : undefined
  if (!grant || grant.accountId !== accountId) {
    grant = new provider.Grant({ accountId, clientId: params.client_id })
  }
  const requested = String(params.scope ?? '').split(' ').filter(Boolean)
  const oidcScopes = requested.filter((s) => OIDC_SCOPES.has(s))
  if (oidcScopes.length) grant.addOIDCScope(oidcScopes.join(' '))
  const requestedResources = [params.resource ?? resourceFromParams(params)].flat().filter(Boolean)
  for (const indicator of requestedResources) {
    const resource = findResource(indicator)
    if (!resource) continue
    const available = new Set(resource.scope.split(' '))
    const scopes = requested.filter((s) => available.has(s))
    grant.addResourceScope(indicator, scopes.join(' '))
  }
  if (details.prompt?.details?.missingOIDCClaims) grant.addOIDCClaims(details.prompt.details.missingOIDCClaims)
  return grant.save()
}
