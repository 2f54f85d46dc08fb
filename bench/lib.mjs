// Small helpers shared by the bench runners: statistics, formatting, Markdown tables, environment.
import { execFileSync } from 'node:child_process'
import os from 'node:os'

export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b)
  if (sorted.length === 0) return NaN
  const pos = (sorted.length - 1) * q
  const lo = Math.floor(pos)
  const hi = Math.ceil(pos)
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo)
}

export const median = (values) => quantile(values, 0.5)

/** Fixed decimals, with thousands separators for big numbers. */
export function num(value, digits = 0) {
  if (!Number.isFinite(value)) return String(value)
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

export const kb = (bytes) => `${num(bytes / 1024, 2)} KB`
export const bytesAndKb = (bytes) => `${num(bytes)} B (${kb(bytes)})`
export const passFail = (ok) => (ok ? 'PASS' : 'FAIL')

/** A Markdown table. `align` per column: 'l' or 'r'. */
export function mdTable(header, rows, align = []) {
  const cells = [header, ...rows].map((r) => r.map((c) => String(c ?? '')))
  const widths = header.map((_, i) => Math.max(3, ...cells.map((r) => r[i].length)))
  const line = (r) => `| ${r.map((c, i) => (align[i] === 'r' ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`
  const sep = `| ${widths.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`
  return [line(cells[0]), sep, ...cells.slice(1).map(line)].join('\n')
}

export function gitCommit(cwd) {
  try {
    const sha = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8' }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'package.json', 'rollup.config.mjs'], { cwd, encoding: 'utf8' }).trim() !== ''
    return dirty ? `${sha} (+ uncommitted changes in src/)` : sha
  } catch {
    return 'unknown'
  }
}

export function nodeEnvironment() {
  const cpus = os.cpus()
  return {
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    cpus: cpus.length,
    availableParallelism: os.availableParallelism?.() ?? cpus.length,
    cpuModel: cpus[0]?.model?.trim() ?? 'unknown',
    memoryGB: Math.round(os.totalmem() / 1024 ** 3),
  }
}
