// Child processes of the WebKit specs: a private Xvfb (MiniBrowser and WebKitGTK have no headless
// mode) and the bookkeeping that stops every child, also when a test crashes before closing.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'

/** Starts Xvfb on a display it picks itself; resolves with { display, stop }. */
export function startXvfb() {
  const bin = process.env.XVFB_PATH ?? '/usr/bin/Xvfb'
  if (!existsSync(bin)) throw new Error(`Xvfb not found at ${bin}: apt-get install xvfb (MiniBrowser has no headless mode)`)
  return new Promise((resolve, reject) => {
    const child = track(spawn(bin, ['-displayfd', '3', '-screen', '0', '1280x1024x24', '-nolisten', 'tcp', '-noreset'], {
      stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
    }))
    let stderr = ''
    let out = ''
    const timer = setTimeout(() => fail(new Error(`Xvfb did not report a display within 10 s: ${stderr.trim()}`)), 10_000)
    const fail = (err) => {
      clearTimeout(timer)
      child.kill('SIGTERM')
      reject(err)
    }
    child.stderr.on('data', (d) => (stderr += d))
    child.on('error', fail)
    child.on('exit', (code) => fail(new Error(`Xvfb exited (${code}): ${stderr.trim()}`)))
    child.stdio[3].on('data', (d) => {
      out += d
      if (!out.includes('\n')) return
      clearTimeout(timer)
      child.removeAllListeners('exit')
      resolve({ display: `:${out.trim()}`, stop: () => stopChild(child) })
    })
  })
}

/** Children still running when this process exits (a test that crashed before close()). */
const running = new Set()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

export function track(child) {
  running.add(child)
  child.once('exit', () => running.delete(child))
  return child
}

export function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), 5_000)
    child.once('exit', () => {
      clearTimeout(kill)
      resolve()
    })
    child.kill('SIGTERM')
  })
}

