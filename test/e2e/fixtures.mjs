// Playwright fixtures for the e2e suite.
//
//   import { test, expect } from './fixtures.mjs'
//   test.use({ stack: { provider: { accessTokenTTL: 5 }, appConfig: { refreshLeewaySeconds: 1 } } })
//   test('…', async ({ page, servers }) => { … })
//
// `servers` is test-scoped: every test gets its own static app server, provider, API and echo
// server (start-up takes a few hundred milliseconds), so grant counts and sessions never leak
// between tests. They are stopped after the test, pass or fail.
import { test as base, expect } from '@playwright/test'

import { startE2EServers } from './support/servers.mjs'

export const test = base.extend({
  /** Options of startE2EServers: { provider, api, appConfig }. */
  stack: [{}, { option: true }],

  servers: async ({ stack }, use) => {
    const servers = await startE2EServers(stack)
    try {
      await use(servers)
    } finally {
      await servers.close()
    }
  },
})

export { expect }
