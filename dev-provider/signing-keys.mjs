// The provider's signing keys (RS256 for ID tokens, ES256 for JWT access tokens), made at
// run time and kept in memory only.
import { exportJWK, generateKeyPair } from 'jose'

// Key generation is the slow part of a start; one signing key set per process is plenty.
let keysPromise
export function signingKeys() {
  keysPromise ??= (async () => {
    const rsa = await generateKeyPair('RS256', { modulusLength: 2048, extractable: true })
    const ec = await generateKeyPair('ES256', { extractable: true })
    return [
      { ...(await exportJWK(rsa.privateKey)), kid: 'e2e-rs256', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.privateKey)), kid: 'e2e-es256', alg: 'ES256', use: 'sig' },
    ]
  })()
  return keysPromise
}
