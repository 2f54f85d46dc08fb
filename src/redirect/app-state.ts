/**
 * `login({ appState })`: the app's data carried through the redirect, stored with the transaction
 * (never in the URL). Only plain JSON-compatible data is accepted, so that it comes back unchanged
 * whether the transaction sits in IndexedDB (structured clone) or in sessionStorage (JSON).
 *
 * @module
 */
import { OAuthError } from '../errors.js'
import { redact } from '../provider/redact.js'

import { APP_STATE_MAX_BYTES } from '../config.js'

/** How deep arrays and objects may nest (a guard against pathological values). */
const MAX_DEPTH = 32

function invalid(message: string): OAuthError {
  return new OAuthError('configuration_error', `login: "appState" ${message}`)
}

/**
 * Throws unless `value` is plain data: null, booleans, finite numbers, strings, arrays, plain
 * objects (whose `undefined` properties are dropped); no cycle, no getter that throws.
 */
function check(value: unknown, path: string, depth: number, seen: Set<object>): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw invalid(`${path} is ${String(value)}: only finite numbers survive the redirect`)
    return
  }
  if (value === undefined) throw invalid(`${path} is undefined: only plain JSON-compatible data is kept (use null)`)
  if (typeof value !== 'object') throw invalid(`${path} is a ${typeof value}: only plain JSON-compatible data is kept`)
  if (depth > MAX_DEPTH) throw invalid(`nests deeper than ${MAX_DEPTH} levels`)
  if (seen.has(value)) throw invalid(`${path} refers back to itself (a cycle)`)
  seen.add(value)
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) check(value[i], `${path}[${i}]`, depth + 1, seen)
  } else {
    const proto: unknown = Object.getPrototypeOf(value)
    if (proto !== Object.prototype && proto !== null) {
      const name = (value as { constructor?: { name?: unknown } }).constructor?.name
      throw invalid(`${path} is a ${typeof name === 'string' && name ? name : 'non-plain object'}: only plain objects and arrays are kept`)
    }
    for (const key of Object.keys(value)) {
      const property = (value as Record<string, unknown>)[key]
      // An absent value is dropped, as JSON does: reading it back gives `undefined` all the same.
      if (property !== undefined) check(property, `${path}.${key}`, depth + 1, seen)
    }
  }
  seen.delete(value)
}

/**
 * Validates `appState` and returns a copy of it (later changes by the app do not reach the
 * stored one), or `undefined` when none was given.
 *
 * @throws {OAuthError} `configuration_error` when it is not plain data or too large.
 */
export function copyAppState(value: unknown): unknown {
  if (value === undefined) return undefined
  let json: string
  try {
    check(value, 'appState', 0, new Set())
    json = JSON.stringify(value)
  } catch (e) {
    // A getter or a proxy that throws: still a configuration_error, never a bare TypeError.
    if (e instanceof OAuthError) throw e
    throw new OAuthError('configuration_error', 'login: "appState" could not be read as plain data', { cause: redact(e) })
  }
  const bytes = new TextEncoder().encode(json).length
  if (bytes > APP_STATE_MAX_BYTES) {
    throw invalid(`is ${bytes} bytes as JSON, more than the ${APP_STATE_MAX_BYTES} allowed: keep an id in it and the data in your own storage`)
  }
  return JSON.parse(json) as unknown
}
