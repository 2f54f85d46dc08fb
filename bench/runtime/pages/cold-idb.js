// The reference page: the same page shape, reading one value with idb-keyval and nothing else.
import { get, set } from '/vendor/idb-keyval.js'
import config from '/bench-config.js'

const scriptStart = performance.now()
get(config.coldKey).then(async (value) => {
  const done = performance.now()
  // The first (warm-up) load writes the value that later loads read.
  if (value === undefined) await set(config.coldKey, 'signed-in')
  window.__cold = { scriptStart, done, status: value === undefined ? 'empty' : 'read' }
})
