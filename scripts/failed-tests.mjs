// The names of the tests that failed, read from each runner's report, so the summary at the end of
// `npm test` (the part of a CI log that is always shown) says which tests failed and why in a line
// each, not only how many.
import { existsSync, readFileSync } from 'node:fs'

/** The first line of an error message, without ANSI colours, at most 200 characters. */
export function firstLine(message) {
  // eslint-disable-next-line no-control-regex
  const plain = String(message ?? '').replace(/\u001b\[[0-9;]*m/g, '')
  const line = plain.split('\n').find((l) => l.trim()) ?? ''
  return line.trim().slice(0, 200)
}

function readJson(file) {
  if (!existsSync(file)) return undefined
  try {
    return JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    return undefined
  }
}

/** Failed tests in a vitest JSON report: `unit: file › name — message`. */
export function vitestFailures(file) {
  const report = readJson(file)
  if (!report) return []
  const out = []
  for (const suite of report.testResults ?? []) {
    const where = String(suite.name ?? '').replace(`${process.cwd()}/`, '')
    const failedTests = (suite.assertionResults ?? []).filter((t) => t.status === 'failed')
    for (const t of failedTests) out.push(`unit: ${where} › ${t.fullName ?? t.title} — ${firstLine(t.failureMessages?.[0])}`)
    // A file that failed to load has no failed test in it, only its own message.
    if (!failedTests.length && suite.status === 'failed') out.push(`unit: ${where} — ${firstLine(suite.message)}`)
  }
  return out
}

/** Failed (and skipped, which count as failed) tests in a Playwright JSON report. */
export function playwrightFailures(file, label) {
  const report = readJson(file)
  if (!report) return []
  const out = []
  const walk = (suite, titles) => {
    for (const spec of suite.specs ?? []) {
      for (const t of spec.tests ?? []) {
        if (t.status !== 'unexpected' && t.status !== 'skipped') continue
        const last = t.results?.at(-1)
        const why = t.status === 'skipped' ? 'skipped' : firstLine(last?.error?.message ?? last?.errors?.[0]?.message)
        out.push(`${label}: ${spec.file}:${spec.line} › ${[...titles, spec.title].join(' › ')} — ${why}`)
      }
    }
    for (const child of suite.suites ?? []) walk(child, child.title && child.title !== child.file ? [...titles, child.title] : titles)
  }
  for (const suite of report.suites ?? []) walk(suite, [])
  for (const e of report.errors ?? []) out.push(`${label}: (outside any test) — ${firstLine(e.message)}`)
  return out
}

/** Failed tests of the engine suites (test/e2e/engines/run.mjs writes them into its report). */
export function engineFailures(file) {
  const report = readJson(file)
  if (!report) return []
  return (report.engines ?? []).flatMap((r) => [
    ...(r.failures ?? []).map((f) => `e2e[${r.engine}]: ${f}`),
    ...(r.note ? [`e2e[${r.engine}]: ${r.note}`] : []),
  ])
}

/** The line scripts/node-test-summary.mjs prints for each failed node:test test. */
export const NODE_TEST_FAILURE = /^not ok: (.+)$/
