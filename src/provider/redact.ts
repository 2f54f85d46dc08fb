/**
 * Redaction of causes, without the protocol library: what the always-loaded part of the SDK needs
 * (storage, lock and channel failures, errors handed back by the lazily loaded parts). The names of
 * oauth4webapi's error classes are added where those errors are caught (`provider/errors.ts`).
 *
 * @module
 */
import { OAuthError } from '../errors.js'

/** A redacted cause: safe to log, carries no token and no response body. */
export interface RedactedCause {
  name: string
  message: string
  code?: string
  status?: number
}

/** The HTTP status an error carries (`status`, or a `Response` as its cause), if any. */
export function statusOf(e: unknown): number | undefined {
  if (!(e instanceof Error)) return undefined
  const status = (e as { status?: unknown }).status
  if (typeof status === 'number') return status
  return e.cause instanceof Response ? e.cause.status : undefined
}

/** Strips an error down to name, message, code and status (`name` replaces the error's own). */
export function redact(e: unknown, name?: string): RedactedCause | undefined {
  if (e === undefined || e === null) return undefined
  if (e instanceof OAuthError) return { name: e.name, message: e.message, code: e.code }
  if (e instanceof Error) {
    const code = (e as { code?: unknown }).code
    const out: RedactedCause = { name: name ?? e.name, message: e.message }
    if (typeof code === 'string') out.code = code
    const status = statusOf(e)
    if (status !== undefined) out.status = status
    return out
  }
  return { name: 'Error', message: typeof e === 'string' ? e : 'unknown error' }
}
