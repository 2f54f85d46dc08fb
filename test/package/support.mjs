// Helpers for test/package: pack the package, a free port, a static server for a built app,
// and a long-running CLI process whose first stdout line is JSON.
import { execFileSync, spawn } from 'node:child_process'
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import http from 'node:http'
import path from 'node:path'

export { freePort } from '../e2e/support/free-port.mjs'

/** `npm pack` into `dest`; returns `{ file, files }`: the tarball's path and the paths it holds. */
export function packTarball(repo, dest) {
  const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dest, '--loglevel=warn'], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
  const [info] = JSON.parse(out)
  return { file: path.join(dest, info.filename), files: info.files.map((f) => f.path) }
}

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.json': 'application/json' }

/** Serves a production build on 127.0.0.1:port; unknown paths (the /callback route) get index.html. */
export async function serveDist(dir, port) {
  const root = path.resolve(dir)
  const server = http.createServer(async (req, res) => {
    const pathname = decodeURIComponent(new URL(req.url, 'http://x').pathname)
    let file = path.resolve(root, `.${pathname}`)
    if (!file.startsWith(root + path.sep)) file = path.join(root, 'index.html')
    const info = await stat(file).catch(() => undefined)
    if (!info?.isFile()) file = path.join(root, 'index.html')
    res.setHeader('Content-Type', TYPES[path.extname(file)] ?? 'application/octet-stream')
    res.setHeader('Referrer-Policy', 'no-referrer')
    createReadStream(file).pipe(res)
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, '127.0.0.1', resolve)
  })
  return {
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections?.()
      }),
  }
}

/**
 * Starts the installed bin `node_modules/.bin/<args[0]>` in `cwd` (what npx runs; npx itself
 * would not pass SIGTERM on) and waits (up to `timeoutMs`) for its first stdout line, parsed as
 * JSON into `info`. `stop()` sends SIGTERM and waits for the exit.
 */
export function startCli(cwd, [bin, ...args], timeoutMs = 30_000) {
  const child = spawn(path.join(cwd, 'node_modules', '.bin', bin), args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })))
  child.once('error', (err) => {
    stderr += String(err)
  })
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    const result = await exited
    clearTimeout(timer)
    return result
  }
  return new Promise((resolve) => {
    const done = (result) => {
      clearTimeout(timer)
      resolve({ ...result, stop, child })
    }
    const timer = setTimeout(() => done({ error: `no JSON line within ${timeoutMs} ms; stderr: ${stderr.slice(-500)}` }), timeoutMs)
    child.stdout.setEncoding('utf8')
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (d) => {
      stderr += d
    })
    child.stdout.on('data', (d) => {
      stdout += d
      const nl = stdout.indexOf('\n')
      if (nl === -1) return
      try {
        done({ info: JSON.parse(stdout.slice(0, nl)) })
      } catch (err) {
        done({ error: `first line is not JSON: ${stdout.slice(0, 200)} (${err.message})` })
      }
    })
    exited.then(({ code }) => done({ error: `exited with ${code} before printing; stderr: ${stderr.slice(-500)}` }))
  })
}
