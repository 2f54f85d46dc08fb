/**
 * Limits of what `login()` carries through the redirect (kept apart from the code that checks
 * them, so that exporting a limit does not load that code).
 *
 * @module
 */

/** The largest `appState` accepted, in bytes of its JSON form (UTF-8). */
export const APP_STATE_MAX_BYTES = 8 * 1024
