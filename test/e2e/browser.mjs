// Finds a Chromium to drive and launches it with flags that keep it off the network.
//
// Order: $CHROMIUM_PATH, Playwright's own bundled Chromium if it is installed, /usr/bin/chromium
// (Debian). `npx playwright install` cannot download here, so the Debian build is the usual one.
import { existsSync } from 'node:fs'

import { chromium } from 'playwright-core'

export const CHROMIUM_ARGS = Object.freeze([
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-default-apps',
  '--disable-extensions',
  '--metrics-recording-only',
  '--no-default-browser-check',
])

const SYSTEM_CANDIDATES = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome']

/** @returns {{ path: string, source: string }} */
export function findChromium() {
  const fromEnv = process.env.CHROMIUM_PATH
  if (fromEnv) {
    if (!existsSync(fromEnv)) throw new Error(`CHROMIUM_PATH=${fromEnv} does not exist`)
    return { path: fromEnv, source: 'CHROMIUM_PATH' }
  }
  try {
    const bundled = chromium.executablePath()
    if (bundled && existsSync(bundled)) return { path: bundled, source: 'playwright' }
  } catch {
    // no bundled browser for this platform
  }
  for (const candidate of SYSTEM_CANDIDATES) {
    if (existsSync(candidate)) return { path: candidate, source: 'system' }
  }
  throw new Error('No Chromium found: set CHROMIUM_PATH, or install Debian\'s chromium (apt-get install chromium)')
}

/** Launch options for Playwright (config `use.launchOptions`, or chromium.launch()). */
export function launchOptions(extra = {}) {
  return {
    executablePath: findChromium().path,
    args: [...CHROMIUM_ARGS, ...(extra.args ?? [])],
    headless: extra.headless ?? true,
    ...Object.fromEntries(Object.entries(extra).filter(([k]) => k !== 'args' && k !== 'headless')),
  }
}

/** Launches a fresh Chromium (fresh temporary profile). Close it with browser.close(). */
export function launchChromium(extra = {}) {
  return chromium.launch(launchOptions(extra))
}
