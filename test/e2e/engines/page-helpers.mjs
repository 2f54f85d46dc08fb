// Engine-neutral pieces the driver modules share: turning a function and its arguments into an
// expression, and polling from Node (the same in every engine, and no in-page eval under the app's CSP).

/**
 * `(fn)(arg1, arg2, …)` as an expression; each argument must be JSON-serialisable or undefined
 * (kept undefined, not turned into null: `getAccessToken(undefined)` and `(null)` differ).
 */
export function callExpression(fn, args = []) {
  const list = args.map((a) => (a === undefined ? 'undefined' : JSON.stringify(a))).join(', ')
  return `(${fn.toString()})(${list})`
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/**
 * Calls `probe()` every `interval` ms until it returns a truthy value; errors while a page
 * navigates (its execution context goes away) count as "not yet". Rejects after `timeout` ms with
 * `message` and the last error.
 */
export async function poll(probe, { timeout = 15_000, interval = 100, message = 'condition' } = {}) {
  const deadline = Date.now() + timeout
  let lastError
  for (;;) {
    try {
      const value = await probe()
      if (value) return value
      lastError = undefined
    } catch (e) {
      lastError = e
    }
    if (Date.now() >= deadline) {
      const why = lastError ? `: last error ${lastError.message}` : ''
      throw new Error(`timed out after ${timeout} ms waiting for ${message}${why}`)
    }
    await sleep(interval)
  }
}

/** A URL matcher of the contract (RegExp or predicate on the URL string) as a predicate. */
export function urlMatcher(match) {
  return typeof match === 'function' ? match : (u) => match.test(u)
}

/**
 * The contract's EnginePage over a Playwright or Puppeteer page (their goto, reload, evaluate and
 * url agree); `click` and `fill` are the engine's own, since the two libraries differ there.
 */
export function wrapPage(page, { click, fill }) {
  return {
    async goto(url) {
      await page.goto(url, { waitUntil: 'load' })
    },
    async url() {
      return page.url()
    },
    async reload() {
      await page.reload({ waitUntil: 'load' })
    },
    evaluate(fn, ...args) {
      return page.evaluate(callExpression(fn, args))
    },
    async waitForFunction(fn, { timeout = 15_000, args = [] } = {}) {
      const expression = callExpression(fn, args)
      await poll(() => page.evaluate(expression), { timeout, message: `${fn.toString().slice(0, 120)}` })
    },
    async waitForURL(match, { timeout = 15_000 } = {}) {
      const test = urlMatcher(match)
      await poll(() => test(page.url()), { timeout, message: `a URL matching ${match}` })
    },
    click: (selector) => click(page, selector),
    fill: (selector, value) => fill(page, selector, value),
    async isClosed() {
      return page.isClosed()
    },
    async close() {
      if (!page.isClosed()) await page.close()
    },
  }
}

/**
 * The contract's `waitForPage` over a function listing the browser's open pages (Playwright or
 * Puppeteer page objects): resolves with the first page that `own` does not hold (pages of
 * `newPage()`) whose URL matches, wrapped with `actions`. Pages wrapped before are wrapped once.
 */
export function pageWaiter(listPages, own, actions) {
  const wrapped = new Map()
  return async (match, { timeout = 15_000 } = {}) => {
    const test = urlMatcher(match)
    const found = await poll(
      async () => (await listPages()).find((p) => !own.has(p) && !p.isClosed() && test(p.url())),
      { timeout, message: `a page the browser opened with a URL matching ${match}` },
    )
    if (!wrapped.has(found)) wrapped.set(found, wrapPage(found, actions))
    return wrapped.get(found)
  }
}
