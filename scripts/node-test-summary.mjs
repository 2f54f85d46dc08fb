// A node:test reporter that prints a line per failed test, `not ok: <file>:<line> › <name> — <why>`,
// then one plain line at the end: `cli: N passed, N failed` (the label from NODE_TEST_LABEL, default
// `cli`), which scripts/test.mjs counts. NODE_TEST_SKIPPED_OK=1 (a name filter on purpose) does not
// count skipped tests as failures. The engine runner (test/e2e/engines/run.mjs) uses it too.
import { firstLine } from './failed-tests.mjs'

function reason(data) {
  const error = data.details?.error
  // node:test wraps the test's own error: the cause says what went wrong.
  return firstLine(error?.cause?.message ?? error?.cause ?? error?.message ?? 'failed')
}

export default async function* summary(source) {
  let passed = 0
  let failed = 0
  for await (const event of source) {
    // Count leaf tests only (a suite's own pass/fail event has nested tests under it).
    // A skipped or todo test is not a pass: it counts as a failure, as in the other suites.
    const leaf = event.data?.details?.type !== 'suite'
    const where = event.data?.file ? `${event.data.file.replace(`${process.cwd()}/`, '')}:${event.data.line}` : ''
    if (event.type === 'test:pass' && leaf && (event.data.skip || event.data.todo) && !process.env.NODE_TEST_SKIPPED_OK) {
      failed++
      yield `not ok: ${where} › ${event.data.name} — ${event.data.skip ? 'skipped' : 'todo'}\n`
    } else if (event.type === 'test:pass' && leaf && !event.data.skip && !event.data.todo) passed++
    if (event.type === 'test:fail' && leaf) {
      failed++
      yield `not ok: ${where} › ${event.data.name} — ${reason(event.data)}\n`
    }
  }
  yield `${process.env.NODE_TEST_LABEL ?? 'cli'}: ${passed} passed, ${failed} failed\n`
}
