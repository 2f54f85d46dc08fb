// The WebKit engine of the e2e suite: WebKitGTK's MiniBrowser driven through WebKitWebDriver (Debian's
// webkit2gtk-driver, a W3C WebDriver) with selenium-webdriver. Implements the contract of README.md.
//
// MiniBrowser has no headless mode, so launch() starts its own Xvfb on a free display (Xvfb picks
// it: -displayfd) and stops it on close(); WebKitWebDriver listens on a free 127.0.0.1 port.
//
// What differs from the other engines (see docs/browser-support.md):
// - MiniBrowser in automation mode keeps website data in memory only (an ephemeral data manager).
//   With `profileDir`, WebKitWebDriver launches webkit-browser.py instead: the same engine
//   (WebKit2GTK 4.1) through its GObject API, with the website data in that folder.
// - One WebDriver session serves every page: a command is sent to a page by switching to its
//   window first, so commands of two pages run one after the other, never at the same time. To
//   make two tabs act at the same moment, start the work in each page without awaiting it (store
//   the promise on `window`) and collect the results afterwards.
// - newPage() opens a new top-level window of the same session (same website data, so the same
//   IndexedDB, BroadcastChannel and cookies as a tab), not a tab: WebKit throttles the timers of a
//   background tab (by up to a second), so two tabs could never act at the same moment.
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

import { Builder, By, until } from 'selenium-webdriver'

import { callExpression } from './page-helpers.mjs'
import { startXvfb, stopChild, track } from './webkit-processes.mjs'
import { freePort } from '../support/free-port.mjs'

/** Debian's WebKitGTK MiniBrowser (webkit2gtk-driver depends on it through libwebkit2gtk-4.1). */
const MINIBROWSER = '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser'

const DEFAULT_TIMEOUT = 15_000

/** The WebKitWebDriver binary: `$WEBKIT_DRIVER_PATH`, else the one on Debian's PATH. */
function webkitDriverPath() {
  const candidates = [process.env.WEBKIT_DRIVER_PATH, '/usr/bin/WebKitWebDriver'].filter(Boolean)
  const found = candidates.find((p) => existsSync(p))
  if (!found) {
    throw new Error(`WebKitWebDriver not found (tried ${candidates.join(', ')}): apt-get install webkit2gtk-driver, or set WEBKIT_DRIVER_PATH`)
  }
  return found
}

/** Starts WebKitWebDriver on a free port with DISPLAY set; resolves when it accepts connections. */
async function startDriver(display, env) {
  const port = await freePort()
  const child = track(spawn(webkitDriverPath(), [`--port=${port}`, '--host=127.0.0.1'], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, ...env, DISPLAY: display, WAYLAND_DISPLAY: '' },
  }))
  let stderr = ''
  child.stderr.on('data', (d) => (stderr += d))
  const deadline = Date.now() + 10_000
  for (;;) {
    if (child.exitCode !== null) throw new Error(`WebKitWebDriver exited (${child.exitCode}): ${stderr.trim()}`)
    const ok = await fetch(`http://127.0.0.1:${port}/status`).then((r) => r.ok, () => false)
    if (ok) return { url: `http://127.0.0.1:${port}`, stop: () => stopChild(child) }
    if (Date.now() > deadline) {
      await stopChild(child)
      throw new Error(`WebKitWebDriver did not answer on port ${port} within 10 s: ${stderr.trim()}`)
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Serialises the session's commands: each runs after switching to its page's window. */
function createQueue() {
  let tail = Promise.resolve()
  return (fn) => {
    const run = tail.then(fn, fn)
    tail = run.catch(() => undefined)
    return run
  }
}

const source = (fn) => {
  if (typeof fn !== 'function') throw new TypeError('evaluate/waitForFunction take a function')
  return fn.toString()
}

/** What this driver can do beyond the contract's minimum: `profileDir` is kept on disk. */
export const capabilities = { profileDir: true }

/** The browser that keeps website data on disk (MiniBrowser cannot in automation mode). */
const PERSISTENT_BROWSER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'webkit-browser.py')

/**
 * Launches WebKit under a private Xvfb: MiniBrowser (website data in memory only, like a private
 * window), or with `profileDir` a small WebKitGTK browser of ours (webkit-browser.py, Python GObject)
 * whose website data lives in that folder, so IndexedDB survives close() and a new launch().
 * With `popupBlocker: false` a page may open windows without a user gesture (MiniBrowser only).
 * @param {{ profileDir?: string, popupBlocker?: boolean }} [options]
 */
export async function launch(options = {}) {
  // MiniBrowser takes every WebKitSettings property as an option: its popup blocker is the setting
  // javascript-can-open-windows-automatically (false by default: only a user gesture opens a window).
  const settings = options.popupBlocker === false ? ['--javascript-can-open-windows-automatically=true'] : []
  const browserOptions = options.profileDir === undefined
    ? { binary: process.env.MINIBROWSER_PATH ?? MINIBROWSER, args: ['--automation', ...settings] }
    : { binary: process.env.PYTHON3_GI_PATH ?? '/usr/bin/python3', args: [PERSISTENT_BROWSER, '--automation'] }
  if (options.profileDir !== undefined) {
    const check = spawnSync(browserOptions.binary, ['-c', "import gi; gi.require_version('Gtk', '3.0'); gi.require_version('WebKit2', '4.1')"], { encoding: 'utf8' })
    if (check.status !== 0) {
      throw new Error(`webkit: launch({ profileDir }) needs ${browserOptions.binary} with python3-gi and gir1.2-webkit2-4.1 (Debian), or PYTHON3_GI_PATH: ${(check.stderr || String(check.error)).trim().split('\n').at(-1)}`)
    }
  }
  const xvfb = await startXvfb()
  let driverServer
  let driver
  try {
    driverServer = await startDriver(xvfb.display, options.profileDir === undefined ? {} : { OAUTH_SPA_WEBKIT_PROFILE: path.resolve(options.profileDir) })
    driver = await new Builder()
      .usingServer(driverServer.url)
      .withCapabilities({ browserName: 'MiniBrowser', 'webkitgtk:browserOptions': browserOptions })
      .build()
    await driver.manage().setTimeouts({ script: 60_000, pageLoad: 30_000, implicit: 0 })
  } catch (err) {
    if (driver) await driver.quit().catch(() => undefined)
    if (driverServer) await driverServer.stop()
    await xvfb.stop()
    throw err
  }

  const queue = createQueue()
  let current = await driver.getWindowHandle()
  let firstUnused = current
  let closed = false

  const inWindow = (handle, fn) => queue(async () => {
    if (closed) throw new Error('webkit: the browser is closed')
    if (current !== handle) {
      await driver.switchTo().window(handle)
      current = handle
    }
    return fn()
  })

  const evaluateIn = async (handle, fn, args) => {
    // The arguments are written into the script (callExpression), so that an undefined one stays
    // undefined: `getAccessToken(undefined)` and `getAccessToken(null)` differ.
    source(fn) // a function, or a TypeError
    const script = `const done = arguments[arguments.length - 1];
      Promise.resolve().then(() => ${callExpression(fn, args)}).then(
        (value) => done({ ok: true, json: value === undefined ? undefined : JSON.stringify(value) }),
        (e) => done({ ok: false, message: String(e && e.stack || e) }))`
    const out = await inWindow(handle, () => driver.executeAsyncScript(script))
    if (!out.ok) throw new Error(`evaluate failed in the page: ${out.message}`)
    return out.json === undefined || out.json === null ? undefined : JSON.parse(out.json)
  }

  const poll = async (what, test, timeout) => {
    const deadline = Date.now() + timeout
    let last
    for (;;) {
      try {
        if (await test()) return
      } catch (e) {
        last = e
      }
      if (Date.now() > deadline) throw new Error(`webkit: timed out after ${timeout} ms waiting for ${what}${last ? ` (last error: ${last.message})` : ''}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  const makePage = (handle) => {
    let pageClosed = false
    const element = async (selector, timeout = DEFAULT_TIMEOUT) => {
      const locator = By.css(selector)
      return driver.wait(until.elementLocated(locator), timeout, `webkit: no element ${selector}`)
    }
    return {
      async goto(url) {
        // WebDriver's Navigate To returns after the load event (page load strategy "normal").
        await inWindow(handle, () => driver.get(url))
      },
      url: () => inWindow(handle, () => driver.getCurrentUrl()),
      async reload() {
        await inWindow(handle, () => driver.navigate().refresh())
      },
      evaluate: (fn, ...args) => evaluateIn(handle, fn, args),
      async waitForFunction(fn, { timeout = DEFAULT_TIMEOUT, args = [] } = {}) {
        await poll(`function ${source(fn).slice(0, 80)}`, () => evaluateIn(handle, fn, args), timeout)
      },
      async waitForURL(match, { timeout = DEFAULT_TIMEOUT } = {}) {
        const test = typeof match === 'function' ? match : (u) => match.test(u)
        await poll(`URL ${match}`, async () => test(await inWindow(handle, () => driver.getCurrentUrl())), timeout)
      },
      async click(selector) {
        await inWindow(handle, async () => {
          const el = await element(selector)
          await driver.wait(until.elementIsVisible(el), DEFAULT_TIMEOUT)
          await el.click()
        })
      },
      async fill(selector, value) {
        await inWindow(handle, async () => {
          const el = await element(selector)
          await driver.wait(until.elementIsVisible(el), DEFAULT_TIMEOUT)
          await el.clear()
          await el.sendKeys(value)
        })
      },
      async isClosed() {
        if (pageClosed || closed) return true
        return !(await queue(() => driver.getAllWindowHandles())).includes(handle)
      },
      async close() {
        if (pageClosed || closed) return
        if (!(await queue(() => driver.getAllWindowHandles())).includes(handle)) {
          pageClosed = true
          return
        }
        pageClosed = true
        await inWindow(handle, async () => {
          const handles = await driver.getAllWindowHandles()
          // The session ends with its last window: keep that one open, on a blank page.
          if (handles.length === 1) {
            await driver.get('about:blank')
            firstUnused = handle
            return
          }
          await driver.close()
          const rest = handles.filter((h) => h !== handle)
          await driver.switchTo().window(rest[0])
          current = rest[0]
        })
      },
    }
  }

  /** Windows of newPage(), and pages handed out by waitForPage (by handle). */
  const own = new Set([current])
  const popups = new Map()
  return {
    engine: 'webkit',
    async newPage() {
      // The session opened with one window: hand that out first, open windows after it.
      if (firstUnused !== undefined) {
        const handle = firstUnused
        firstUnused = undefined
        return makePage(handle)
      }
      const handle = await queue(async () => {
        await driver.switchTo().newWindow('window')
        const h = await driver.getWindowHandle()
        current = h
        return h
      })
      own.add(handle)
      return makePage(handle)
    },
    /** A window the page opened (window.open), found among the session's windows by its URL. */
    async waitForPage(match, { timeout = DEFAULT_TIMEOUT } = {}) {
      const test = typeof match === 'function' ? match : (u) => match.test(u)
      let found
      await poll(`a window the page opened with a URL matching ${match}`, async () => {
        const handles = await queue(() => driver.getAllWindowHandles())
        for (const h of handles.filter((x) => !own.has(x))) {
          const url = await inWindow(h, () => driver.getCurrentUrl()).catch(() => undefined)
          if (url !== undefined && test(url)) {
            found = h
            return true
          }
        }
        return false
      }, timeout)
      if (!popups.has(found)) popups.set(found, makePage(found))
      return popups.get(found)
    },
    async close() {
      if (closed) return
      await queue(async () => {
        closed = true
        await driver.quit().catch(() => undefined)
      })
      await driverServer.stop()
      await xvfb.stop()
    },
  }
}
