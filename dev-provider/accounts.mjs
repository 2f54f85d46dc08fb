// Who can sign in at the provider, and which claims each OIDC scope releases.

export const DEFAULT_USERS = Object.freeze([
  Object.freeze({
    sub: 'alice',
    username: 'alice',
    password: 'wonderland',
    claims: { name: 'Alice Liddell', given_name: 'Alice', family_name: 'Liddell', preferred_username: 'alice', email: 'alice@example.test', email_verified: true },
  }),
  Object.freeze({
    sub: 'bob',
    username: 'bob',
    password: 'builder',
    claims: { name: 'Bob Builder', given_name: 'Bob', family_name: 'Builder', preferred_username: 'bob', email: 'bob@example.test', email_verified: false },
  }),
])

export const OIDC_CLAIMS = {
  openid: ['sub'],
  profile: ['name', 'given_name', 'family_name', 'preferred_username'],
  email: ['email', 'email_verified'],
}
export const OIDC_SCOPES = new Set(['openid', 'offline_access', 'profile', 'email'])

/** oidc-provider's `findAccount` over `users` (a Map by sub); `accountClaims` go to every account. */
export function accountFinder(users, accountClaims) {
  return async function findAccount(_ctx, sub) {
    const user = users.get(sub)
    if (!user) return undefined
    return {
      accountId: sub,
      async claims() {
        return { sub, ...user.claims, ...accountClaims }
      },
    }
  }
}
