// The playground tells the truth (issue 17 §4): each text below once said something the page
// itself, or the SDK, contradicted. Every test checks the text against what really happens in the
// same run (localStorage's keys, the provider's form, the stores, the viewport), so they stay true.
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { expect, test } from '@playwright/test'

import { startDemo } from '../../demo/server/start.mjs'

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..')
const BUNDLE = path.join(REPO_ROOT, 'dist', 'oauth-spa.standalone.min.js')

async function openDemo(page, url) {
  await page.goto(url)
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
}

async function signIn(page, demo) {
  await openDemo(page, demo.url)
  await page.uncheck('#pause-before-redirect')
  await page.click('#login')
  await page.waitForURL((u) => u.href.startsWith(`${demo.issuer}/interaction/`))
  await page.fill('input[name=login]', 'alice')
  await page.fill('input[name=password]', 'wonderland')
  await page.click('#submit')
  await page.waitForURL((u) => u.origin === demo.appOrigin && u.pathname === '/')
  await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
  await expect(page.locator('#status')).toHaveText('authenticated')
}

/** How wide the page is: wider than the viewport means a horizontal scroll bar on a phone. */
const pageWidth = (page) => page.evaluate(() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth))

test.describe('demo playground texts', () => {
  let demo

  test.beforeAll(async () => {
    if (!existsSync(BUNDLE)) throw new Error(`${BUNDLE} is missing: run \`npm run build\` first`)
    demo = await startDemo({ port: 0, providerPort: 0, apiPort: 0 })
  })

  test.afterAll(async () => {
    await demo?.close()
  })

  test('panel 6 says what the localStorage key it counts is (the pending sign-in index)', async ({ page }) => {
    await openDemo(page, demo.url)
    await expect(page.locator('#panel-storage .why')).not.toContainText('Nothing is written to localStorage')
    await page.check('#pause-before-redirect')
    await page.click('#login')
    await expect(page.locator('#continue-login')).toBeVisible()
    const keys = await page.evaluate(() => Object.keys(localStorage))
    expect(keys).toHaveLength(1)
    expect(keys[0]).toMatch(/^oauth-spa:.*:pending:/)
    const other = page.locator('#other-storage')
    await expect(other).toHaveAttribute('data-local', '1')
    await expect(other).toContainText('localStorage: 1 key')
    await expect(other).toContainText('pending sign-in')
    await expect(other).toContainText(':pending:')
    await expect(page.locator('#panel-storage .why')).toContainText('pending sign-in')
  })

  test('"log out of this app only" says the next sign-in shows the form, and it does', async ({ page }) => {
    await signIn(page, demo)
    await page.click('#logout-local')
    const result = page.locator('#logout-result')
    await expect(result).toHaveAttribute('data-done', 'local')
    await expect(result).toContainText('prompt=login')
    await expect(result).not.toContainText('may not ask')
    // and it is true: the provider's session is alive, yet the next sign-in stops at its form
    await page.uncheck('#pause-before-redirect')
    await page.click('#login')
    await page.waitForURL((u) => u.href.startsWith(`${demo.issuer}/interaction/`))
    await expect(page.locator('#login-form')).toBeVisible()
  })

  test('panel 8: a refresh token revoked and wiped at logout is not called current', async ({ page }) => {
    await signIn(page, demo)
    const last = page.locator('#rt-history li').last()
    await expect(last).toContainText('current')
    await page.click('#logout-local')
    await expect(page.locator('#logout-result')).toHaveAttribute('data-done', 'local')
    await expect(page.locator('#store-refresh_tokens')).toHaveAttribute('data-count', '0')
    await expect(last).not.toContainText('current')
    await expect(last).toContainText('revoked')
    await expect(page.locator('#rt-fingerprint')).toHaveText('—')
  })

  test('a cancelled sign-in: the error is scrolled into view and said once', async ({ page }) => {
    await page.setViewportSize({ width: 1280, height: 720 })
    await openDemo(page, demo.url)
    await page.uncheck('#pause-before-redirect')
    await page.click('#login')
    await page.waitForURL((u) => u.href.startsWith(`${demo.issuer}/interaction/`))
    await page.click('#deny')
    await page.waitForURL((u) => u.origin === demo.appOrigin && u.pathname === '/')
    await expect(page.locator('body')).toHaveAttribute('data-ready', 'true')
    const result = page.locator('#callback-result')
    await expect(result).toHaveAttribute('data-code', 'authorization_error')
    await expect(result).toBeInViewport()
    const text = await result.textContent()
    expect(text.match(/access_denied/g) ?? []).toHaveLength(1)
    expect(text.match(/End-User aborted interaction/g) ?? []).toHaveLength(1)
    expect(text.match(/authorization_error/g) ?? []).toHaveLength(1)
  })

  test('at 390 px the page fits, signed out and signed in', async ({ page }) => {
    await page.setViewportSize({ width: 390, height: 844 })
    await openDemo(page, demo.url)
    expect(await pageWidth(page)).toBeLessThanOrEqual(390)
    await signIn(page, demo)
    await page.click('#call-api')
    await expect(page.locator('#api-status')).toHaveAttribute('data-status', '200')
    expect(await pageWidth(page)).toBeLessThanOrEqual(390)
  })
})
