// A node:test reporter that prints one plain line at the end: `cli: N passed, N failed`
// (the label from NODE_TEST_LABEL, default `node-test`), which scripts/test.mjs counts.
export default async function* summary(source) {
  let passed = 0
  let failed = 0
  for await (const event of source) {
    // Count leaf tests only (a suite's own pass/fail event has nested tests under it).
    // A skipped or todo test is not a pass: it counts as a failure, as in the other suites.
    const leaf = event.data?.details?.type !== 'suite'
    if (event.type === 'test:pass' && leaf && (event.data.skip || event.data.todo)) failed++
    else if (event.type === 'test:pass' && leaf) passed++
    if (event.type === 'test:fail' && leaf) failed++
  }
  yield `${process.env.NODE_TEST_LABEL ?? 'cli'}: ${passed} passed, ${failed} failed\n`
}
