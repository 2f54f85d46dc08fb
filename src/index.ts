/**
 * oauth-spa: OAuth 2.0 / OpenID Connect for single-page apps.
 *
 * @module oauth-spa
 */
export { createOAuthClient } from './client.js'
export { OAuthError, isOAuthError } from './errors.js'
export { APP_STATE_MAX_BYTES } from './config.js'
export { readChallenge } from './fetch/challenge.js'
export type { Challenge } from './fetch/challenge.js'
export type { OAuthErrorCode, OAuthErrorDetails } from './errors.js'
export type {
  AuthSnapshot,
  AddressClaim,
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
  StandardClaims,
  User,
} from './types.js'
