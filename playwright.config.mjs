// End-to-end tests: real Chromium against a real OpenID Provider (oidc-provider) and API, all
// on 127.0.0.1. The servers are started by the tests' fixtures (test/e2e/fixtures.mjs), not here.
import { defineConfig } from '@playwright/test'

import { launchOptions } from './test/e2e/browser.mjs'

// Two runs at once in one work tree would wipe each other's artifacts: let a run pick its own.
const outputDir = process.env.E2E_OUTPUT_DIR ?? 'test-results/e2e-artifacts'
const jsonReport = process.env.E2E_JSON_REPORT ?? 'test-results/e2e.json'

export default defineConfig({
  testDir: 'test/e2e',
  testMatch: ['**/*.spec.mjs', '**/*.spec.ts'],
  // The shared engine suite (chromium, firefox, webkit) has its own runner: test/e2e/engines/run.mjs.
  // (A RegExp on the path: a glob like 'engines/**' also matches a checkout that lives in a
  // folder named "engines", and then every spec is ignored.)
  testIgnore: [/test[\\/]e2e[\\/]engines[\\/]/],
  outputDir,
  fullyParallel: false,
  // One worker by default: several specs measure timing (token expiry, two tabs racing) on a
  // 2-core machine. E2E_WORKERS=2 runs two (each test starts its own servers on free ports).
  workers: Number(process.env.E2E_WORKERS ?? 1),
  retries: 0,
  forbidOnly: Boolean(process.env.CI),
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['json', { outputFile: jsonReport }]],
  use: {
    browserName: 'chromium',
    headless: true,
    launchOptions: launchOptions(),
    actionTimeout: 10_000,
    navigationTimeout: 15_000,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    serviceWorkers: 'block',
  },
})
