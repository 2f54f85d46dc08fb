/**
 * oauth-spa: OAuth 2.0 / OpenID Connect for single-page apps.
 *
 * @packageDocumentation
 */
export { createOAuthClient } from './client.js'
export { OAuthError, isOAuthError } from './errors.js'
export { readChallenge } from './fetch/challenge.js'
export type { Challenge } from './fetch/challenge.js'
export type { OAuthErrorCode, OAuthErrorDetails } from './errors.js'
export type {
  AuthSnapshot,
  AuthStatus,
  EndSessionOptions,
  GetAccessTokenOptions,
  LoginOptions,
  LogoutOptions,
  MetadataOverride,
  OAuthClient,
  OAuthClientOptions,
  OAuthEvent,
  OAuthEventMap,
  PopupLoginOptions,
  RedirectResult,
  SignInGrant,
  User,
} from './types.js'
