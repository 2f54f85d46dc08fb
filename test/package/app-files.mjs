// The files of the fresh Vite + React + TypeScript app that test/package/fresh-app.mjs builds
// from the packed tarball: what a new user writes, following the README and docs/testing.md.

export const APP_FILES = {
  'index.html': `<!doctype html>
<html lang="en">
  <head>
    <meta charset="UTF-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1.0" />
    <title>fresh app</title>
  </head>
  <body>
    <div id="root"></div>
    <script type="module" src="/src/main.tsx"></script>
  </body>
</html>
`,
  'tsconfig.json': `${JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2022', 'DOM', 'DOM.Iterable'],
        module: 'ESNext',
        moduleResolution: 'bundler',
        jsx: 'react-jsx',
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        noUnusedLocals: true,
        noUnusedParameters: true,
        verbatimModuleSyntax: true,
        isolatedModules: true,
        noEmit: true,
        skipLibCheck: false,
        types: ['vite/client'],
      },
      include: ['src', 'tests'],
    },
    null,
    2,
  )}\n`,
  'vite.config.ts': `import react from '@vitejs/plugin-react'
import { defineConfig } from 'vite'

export default defineConfig({ plugins: [react()] })
`,
  'src/env.d.ts': `interface ImportMetaEnv {
  /** JSON: the createOAuthClient options printed by \`npx oauth-spa dev-provider --json\` */
  readonly VITE_OAUTH_CLIENT: string
  /** the echo API's GET /api/me */
  readonly VITE_API_ME: string
}
interface ImportMeta {
  readonly env: ImportMetaEnv
}
`,
  'src/auth.ts': `import { createOAuthClient, type OAuthClientOptions } from 'oauth-spa'

const options = JSON.parse(import.meta.env.VITE_OAUTH_CLIENT) as OAuthClientOptions
export const auth = createOAuthClient(options)
export const apiMe: string = import.meta.env.VITE_API_ME
`,
  'src/main.tsx': `import { StrictMode } from 'react'
import { createRoot } from 'react-dom/client'
import { AuthProvider } from 'oauth-spa/react'

import { App } from './App'
import { auth } from './auth'

const root = document.getElementById('root')
if (!root) throw new Error('#root is missing')
createRoot(root).render(
  <StrictMode>
    <AuthProvider client={auth}>
      <App />
    </AuthProvider>
  </StrictMode>,
)
`,
  'src/App.tsx': `import { useEffect, useState } from 'react'
import { isOAuthError } from 'oauth-spa'
import { useAuth } from 'oauth-spa/react'

import { apiMe } from './auth'

export function App() {
  const { status, user, error, login, logout, fetch } = useAuth()
  const [apiSub, setApiSub] = useState<string>('')

  useEffect(() => {
    if (status !== 'authenticated') return
    fetch(apiMe)
      .then((res) => res.json() as Promise<{ sub?: string }>)
      .then((claims) => setApiSub(String(claims.sub)))
      .catch((e: unknown) => setApiSub(isOAuthError(e) ? \`error \${e.code}\` : 'error'))
  }, [status, fetch])

  if (status === 'loading') return <p id="loading">Loading…</p>
  return (
    <main>
      {error ? <p role="alert" id="error">{error.code}</p> : null}
      {status === 'authenticated' ? (
        <>
          <p id="signed-in">Signed in as {String(user?.name ?? user?.sub)}</p>
          <p id="api-sub">{apiSub}</p>
          <button id="sign-out" onClick={() => void logout()}>Sign out</button>
        </>
      ) : (
        <button id="sign-in" onClick={() => void login()}>Sign in</button>
      )}
    </main>
  )
}
`,
  // Type-checked only: what an app's Playwright test writes with oauth-spa/testing.
  'tests/signin.ts': `import { startDevProvider, testLoginCookie, useTestUser, type CookieJar, type DevProvider } from 'oauth-spa/testing'

export async function signInAs(context: CookieJar, dev: DevProvider, user: string): Promise<void> {
  await useTestUser(context, { issuer: dev.issuer, user })
}

export async function setup(): Promise<{ dev: DevProvider; cookie: ReturnType<typeof testLoginCookie> }> {
  const dev = await startDevProvider({ clientId: 'fresh-app', redirectUri: 'http://127.0.0.1:4173/callback', port: 0, api: true, apiPort: 0, testLogin: true })
  const issuer: string = dev.clientOptions.issuer
  return { dev, cookie: testLoginCookie({ issuer, user: 'alice' }) }
}
`,
}

/** The app's package.json. */
export function appPackageJson(dependencies = {}, devDependencies = {}) {
  return `${JSON.stringify(
    {
      name: 'fresh-app',
      private: true,
      version: '0.0.0',
      type: 'module',
      scripts: { build: 'tsc -p tsconfig.json && vite build' },
      dependencies,
      devDependencies,
    },
    null,
    2,
  )}\n`
}
