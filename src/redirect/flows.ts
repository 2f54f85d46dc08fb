/**
 * The sign-in and sign-out flows of a client, loaded on first need (a login, a callback, a popup,
 * a silent renewal, a logout): authorization requests, callback handling, the popup and iframe
 * flows with their relay, and logout. The always-loaded part of the client (`client.ts`) keeps
 * what must answer synchronously: `isRedirectCallback()` and opening a popup in the caller's click.
 *
 * @module
 */
import type { Config } from '../config.js'
import type { DpopKeys } from '../dpop/keys.js'
import { OAuthError } from '../errors.js'
import { missingRefreshToken } from '../provider/offline-access.js'
import type { Provider } from '../provider/provider.js'
import type { Session, SignIn } from '../session/session.js'
import type { TokenStore } from '../store/token-store.js'
import type { LoginOptions, LogoutOptions, RedirectResult } from '../types.js'
import { prepareLogin, startLogin, type AuthorizeDeps } from './authorize.js'
import { createCallbackHandler } from './callback.js'
import type { CallbackDetector } from './detect.js'
import { completeLogoutReturn, logout } from './logout.js'
import { guardMixUp } from './mix-up.js'
import type { RedirectIssuers } from './redirect-issuers.js'
import { runPopup } from './popup.js'
import type { OpenedPopup } from './popup-window.js'
import { createRelay } from './relay.js'
import { createSilentSignIn, type SilentSignIn } from './silent.js'
import { createTransactionStore } from './transactions.js'
import type { Backend } from '../store/backend.js'

/** What the flows need from the client. */
export interface FlowsDeps {
  config: Config
  provider: Provider
  backend: Backend
  session: Session
  store: TokenStore
  dpopKeys: DpopKeys
  detector: CallbackDetector
  /** This client's registration on its redirect URI (for the mix-up check). */
  redirectIssuers: RedirectIssuers
  report(error: OAuthError): void
  navigate(url: string): void
}

/** The flows of one client. */
export interface Flows {
  /** Starts a redirect sign-in (`ask`: the provider's form, after a sign-out). */
  login(options: LoginOptions | undefined): Promise<never>
  /** Runs a popup sign-in in a window already opened in the caller's gesture. */
  popup(opened: OpenedPopup): Promise<RedirectResult>
  handleRedirectCallback(url?: string): Promise<RedirectResult>
  isCallback(url?: string): boolean
  /** Silent renewal through a hidden iframe (`silentRenew: 'iframe'`). */
  silent: SilentSignIn | undefined
  /** What follows the local sign-out (`signedOut`, started by the client): revocation and the end-session page. */
  logout(options: LogoutOptions | undefined, navigate: (url: string) => void, signedOut: ReturnType<Session['signOut']>): Promise<void>
  /** Back from the provider's end-session page: checks the logout's state. */
  completeLogoutReturn(): void
  /** Whether a sign-in with this `state` is pending in the store. */
  hasTransaction(state: string): Promise<boolean>
}

/** Creates the flows of a client (once per client). */
export function createFlows(deps: FlowsDeps): Flows {
  const { config, provider, session, store, dpopKeys, report, navigate } = deps
  const transactions = createTransactionStore(deps.backend, config.namespace)
  const authorizeDeps: AuthorizeDeps = { config, provider, transactions, dpopKeys, warn: report, navigate }
  const relay = createRelay(config.namespace)
  const callbacks = createCallbackHandler({ config, provider, transactions, session, dpopKeys, report, detector: deps.detector, mixUp: guardMixUp(config, deps.redirectIssuers) })
  /** After a sign-out, the provider's form unless a prompt is given (see `login()`). */
  const asked = (opts: LoginOptions | undefined): LoginOptions | undefined =>
    session.afterLogout() && (opts === undefined || (typeof opts === 'object' && opts !== null && opts.prompt === undefined)) ? { ...opts, prompt: 'login' } : opts

  const silent =
    config.silentRenew === 'iframe'
      ? createSilentSignIn({
          config,
          prepare: (opts, internal) => prepareLogin(authorizeDeps, opts, internal),
          relay,
          exchange: (href) => callbacks.exchange(href),
          discard: (state) => transactions.discard(state),
          current: () => store.cachedSession(),
        })
      : undefined

  /** Sign-in results whose grant has been checked (a second handleRedirectCallback gets the same one). */
  const reported = new WeakSet<object>()
  /** The callback handled in this page. */
  const handleHere = (url: string | undefined) =>
    callbacks.handle(url).then((result) => {
      // A sign-in that asked for offline_access and got no refresh token is reported once.
      const problem = reported.has(result) ? undefined : missingRefreshToken(result.grant)
      reported.add(result)
      if (problem) report(problem)
      return result
    })

  /** Callbacks this page relayed to the page that started them (popup, iframe), by URL. */
  const relayed = new Map<string, Promise<RedirectResult>>()
  /** A relayed callback's page: settles its status and, when it is a popup, closes itself. */
  async function finishRelayed(error?: OAuthError): Promise<void> {
    await session.settle(undefined, error)
    if (typeof window !== 'undefined' && window.top === window) setTimeout(() => window.close(), 0)
  }

  return {
    login: (opts) => startLogin(authorizeDeps, asked(opts)),
    popup: (opened) =>
      runPopup(
        {
          prepare: (opts) => prepareLogin(authorizeDeps, asked(opts) ?? {}),
          relay,
          handle: (href) => handleHere(href),
          discard: (state) => transactions.discard(state),
          idle: () => session.idle(),
        },
        opened,
      ),
    handleRedirectCallback(url) {
      const href = url ?? (typeof location === 'undefined' ? undefined : location.href)
      const known = href === undefined ? undefined : relayed.get(href)
      if (known) return known
      const forwarded = href === undefined ? undefined : relay.forward(href)
      if (!forwarded) return handleHere(url)
      const p = forwarded.then(
        async (result) => {
          // Nobody acknowledged (the starting page is gone): an ordinary redirect sign-in here.
          if (result === undefined) return handleHere(url)
          await finishRelayed()
          return result
        },
        async (e: unknown) => {
          await finishRelayed(e instanceof OAuthError ? e : undefined)
          throw e
        },
      )
      relayed.set(href!, p)
      return p
    },
    isCallback: (url) => callbacks.isCallback(url),
    silent,
    logout: (opts, leave, signedOut) => logout({ config, provider, session, report, navigate: leave }, opts, signedOut),
    completeLogoutReturn: () => completeLogoutReturn(config, report),
    hasTransaction: (state) => transactions.has(state),
  }
}

export type { SignIn }
