// The oauth-spa playground. Plain ESM, no build step; the SDK comes from the standalone bundle.
//
// Rules of this file: every value from the provider, the API or storage is rendered with
// textContent (never as HTML); tokens are shown redacted unless "Reveal token values" is ticked;
// the demo keeps only its own settings and the outgoing authorization URL (no token) in
// sessionStorage.
import { createOAuthClient, isOAuthError } from '/dist/oauth-spa.standalone.min.js'

const EVENTS = ['login', 'token_refreshed', 'session_expired', 'logout', 'storage_fallback', 'error']
const DB_NAME = 'oauth-spa'
const STORES = ['access_tokens', 'id_tokens', 'refresh_tokens', 'dpop_keys', 'transactions']
const STORE_NOTES = {
  access_tokens: 'one per audience and scope',
  id_tokens: 'the session: ID token and its claims',
  refresh_tokens: 'sent only to the token endpoint',
  dpop_keys: 'CryptoKey objects; the private key cannot be exported',
  transactions: 'pending sign-ins (no token) and markers of completed ones',
}
const DEMO_KEYS = {
  dpop: 'oauth-spa-demo:dpop',
  pause: 'oauth-spa-demo:pause',
  authorize: 'oauth-spa-demo:authorize-url',
  logout: 'oauth-spa-demo:logout',
}

// ---------------------------------------------------------------------------------------------
// DOM helpers: text only

const $ = (id) => document.getElementById(id)

/** Creates an element; string children become text nodes. */
function h(tag, props = {}, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined || v === null || v === false) continue
    if (k === 'class') el.className = v
    else if (k === 'dataset') Object.assign(el.dataset, v)
    else if (k === 'title') el.title = String(v)
    else el.setAttribute(k, String(v))
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue
    el.append(child instanceof Node ? child : document.createTextNode(String(child)))
  }
  return el
}

function setText(id, value) {
  const el = $(id)
  if (el) el.textContent = value === undefined || value === null ? '' : String(value)
  return el
}

function show(id, visible) {
  const el = $(id)
  if (el) el.hidden = !visible
}

function panelState(id, state) {
  const el = $(id)
  if (el) el.dataset.state = state
}

/** Fills a table body with [name, value, note?, key?] rows (value may be a Node); notes get a third column. */
function fillTable(tableId, rows) {
  const table = $(tableId)
  const withNotes = rows.some((r) => r[2])
  table.classList.toggle('with-notes', withNotes)
  table.tBodies[0].replaceChildren(
    ...rows.map(([name, value, note, key]) =>
      h('tr', { dataset: { key: key ?? name } },
        h('th', {}, name),
        h('td', {}, value instanceof Node ? value : h('code', {}, formatValue(value))),
        withNotes ? h('td', { class: 'note' }, note ?? '') : null,
      ),
    ),
  )
}

function formatValue(value) {
  if (value === undefined) return '—'
  if (Array.isArray(value)) return value.join(' ')
  if (value && typeof value === 'object') return JSON.stringify(value)
  return String(value)
}

const time = (ms) => new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', second: '2-digit' })

// ---------------------------------------------------------------------------------------------
// Crypto and encoding helpers

const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
const hex = (bytes) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, '0')).join('')
const sha256 = (text) => crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))

/** First 8 hex digits of the SHA-256 of a secret: shows that it changed, not what it is. */
async function fingerprint(secret) {
  return secret ? hex(await sha256(secret)).slice(0, 8) : undefined
}

async function pkceChallenge(verifier) {
  return b64url(await sha256(verifier))
}

function decodeJwt(token) {
  try {
    const [header, payload] = String(token).split('.').slice(0, 2).map((part) => {
      const b64 = part.replace(/-/g, '+').replace(/_/g, '/')
      const bytes = Uint8Array.from(atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4)), (c) => c.charCodeAt(0))
      return JSON.parse(new TextDecoder().decode(bytes))
    })
    return header && payload ? { header, payload } : undefined
  } catch {
    return undefined
  }
}

/** RFC 7638 thumbprint of a public EC key. */
async function jwkThumbprint(publicKey) {
  const jwk = await crypto.subtle.exportKey('jwk', publicKey)
  const members = jwk.kty === 'EC' ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y } : jwk.kty === 'RSA' ? { e: jwk.e, kty: jwk.kty, n: jwk.n } : { crv: jwk.crv, kty: jwk.kty, x: jwk.x }
  return b64url(await sha256(JSON.stringify(members)))
}

// ---------------------------------------------------------------------------------------------
// Redaction

let reveal = false

function redact(secret) {
  if (secret === undefined || secret === null) return '—'
  const s = String(secret)
  if (reveal) return s
  // A short prefix helps tell values apart; a short value is hidden whole.
  return s.length > 24 ? `${s.slice(0, 6)}… (${s.length} characters, hidden)` : `(${s.length} characters, hidden)`
}

// ---------------------------------------------------------------------------------------------
// Reading the SDK's IndexedDB (read only; never creates the database)

function openExistingDb() {
  return new Promise((resolve) => {
    let request
    try {
      request = indexedDB.open(DB_NAME)
    } catch {
      resolve(undefined)
      return
    }
    request.onupgradeneeded = (event) => {
      // The database does not exist yet: do not create it (the SDK will).
      if (event.oldVersion === 0) request.transaction.abort()
    }
    request.onsuccess = () => {
      const db = request.result
      // Let the SDK upgrade the schema whenever it needs to.
      db.onversionchange = () => db.close()
      resolve(db)
    }
    request.onerror = () => resolve(undefined)
    request.onblocked = () => resolve(undefined)
  })
}

/** Every record of every store: { store: [{ key, value }] }, or undefined without a database. */
async function readAllStores() {
  const db = await openExistingDb()
  if (!db) return undefined
  try {
    const names = STORES.filter((n) => db.objectStoreNames.contains(n))
    const out = Object.fromEntries(STORES.map((n) => [n, []]))
    if (names.length === 0) return out
    const tx = db.transaction(names, 'readonly')
    await Promise.all(
      names.map(
        (name) =>
          new Promise((resolve, reject) => {
            const store = tx.objectStore(name)
            const keys = store.getAllKeys()
            const values = store.getAll()
            values.onsuccess = () => {
              out[name] = keys.result.map((key, i) => ({ key, value: values.result[i] }))
              resolve()
            }
            values.onerror = () => reject(values.error)
            keys.onerror = () => reject(keys.error)
          }),
      ),
    )
    return out
  } catch {
    return undefined
  } finally {
    db.close()
  }
}

async function readRecord(store, key) {
  const all = await readAllStores()
  return all?.[store]?.find((r) => r.key === key)?.value
}

// ---------------------------------------------------------------------------------------------
// Configuration and the client

const cfg = await fetch('/demo-config.json', { cache: 'no-store' }).then((r) => r.json())
const client = cfg.client
const ns = `${client.issuer}|${client.clientId}`

function readSetting(key, queryName) {
  const q = queryName ? new URLSearchParams(location.search).get(queryName) : null
  if (q === '1' || q === '0') {
    sessionStorage.setItem(key, q)
    return q === '1'
  }
  return sessionStorage.getItem(key) === '1'
}
const dpop = readSetting(DEMO_KEYS.dpop, 'dpop')
const pauseStored = sessionStorage.getItem(DEMO_KEYS.pause)
let pauseBeforeRedirect = pauseStored === null ? true : pauseStored === '1'
const canCapture = typeof window.navigation?.addEventListener === 'function'

// The callback's parameters, read before handleRedirectCallback() scrubs the address bar.
const callbackUrl = new URL(location.href)
const onCallbackPath = callbackUrl.pathname === new URL(client.redirectUri).pathname
const callbackParams = onCallbackPath && callbackUrl.searchParams.has('state')
  ? Object.fromEntries(['code', 'state', 'iss', 'error', 'error_description'].filter((p) => callbackUrl.searchParams.has(p)).map((p) => [p, callbackUrl.searchParams.get(p)]))
  : undefined
// The pending transaction of that state, read before the SDK consumes it.
const callbackTxn = callbackParams ? await readRecord('transactions', `${ns}|txn|${callbackParams.state}`) : undefined

const view = {
  snapshotChanges: 0,
  access: undefined,
  accessJwt: undefined,
  refreshFp: undefined,
  accessFp: undefined,
  rtHistory: [],
  /** set by the logout event (this tab's or another's), cleared by login */
  loggedOut: false,
  discovery: undefined,
  loggingIn: false,
  lastRequest: undefined,
}

let auth
try {
  auth = createOAuthClient({ ...client, dpop })
} catch (e) {
  fatal(`createOAuthClient failed: ${e?.code ?? ''} ${e?.message ?? e}`)
  throw e
}

function fatal(message) {
  const banner = $('banner')
  banner.textContent = message
  banner.hidden = false
  banner.dataset.kind = 'error'
}

// ---------------------------------------------------------------------------------------------
// Header, mode, static bits

function renderMode() {
  const mode = $('mode')
  mode.replaceChildren(
    h('span', { class: 'tag', dataset: { mode: cfg.mode } }, cfg.mode === 'embedded' ? 'local provider' : 'external provider'),
    ' ',
    h('code', { id: 'issuer' }, client.issuer),
    ' · client ',
    h('code', { id: 'client-id' }, client.clientId),
    ...(dpop ? [' ', h('span', { class: 'tag dpop' }, 'DPoP')] : []),
  )
  if (cfg.users?.length) {
    setText('demo-users', `Demo users: ${cfg.users.map((u) => `${u.username} / ${u.password}`).join(', ')}`)
  } else {
    setText('demo-users', 'Sign in with an account of your provider.')
  }
  if (cfg.register) {
    show('register', true)
    fillTable('register-table', [
      ['redirect URI', cfg.register.redirectUri],
      ['post-logout redirect URI', cfg.register.postLogoutRedirectUri],
      ['allowed web origin (CORS)', cfg.register.webOrigin],
      ['client type', 'public (no secret), PKCE S256, grant types authorization_code and refresh_token, refresh token rotation'],
      ['scope', client.scope ?? 'openid profile email offline_access'],
    ])
  }
  $('api-url').value = cfg.apiUrl ?? ''
  if (!cfg.apiUrl) $('api-url').placeholder = 'https://api.example.com/me (start the demo with --api-origin)'
  $('dpop-toggle').checked = dpop
  $('pause-before-redirect').checked = pauseBeforeRedirect && canCapture
  $('pause-before-redirect').disabled = !canCapture
  if (!canCapture) $('pause-before-redirect').parentElement.title = 'Needs the Navigation API (Chromium)'
  $('tab-role').textContent = window.opener ? 'opened from another tab' : 'first tab'
}

// ---------------------------------------------------------------------------------------------
// Event log

function logEvent(name, detail, kind = 'sdk') {
  const log = $('event-log')
  const item = h('li', { class: `log-${kind}`, dataset: { event: name, kind } },
    h('time', {}, time(Date.now())),
    h('span', { class: 'event-name' }, name),
    detail ? h('span', { class: 'event-detail' }, detail) : null,
  )
  log.prepend(item)
  while (log.children.length > 200) log.lastElementChild.remove()
}

/** A failed callback, said once: the code, then what the provider answered (if it did). */
function callbackErrorText(error) {
  if (error?.code === 'authorization_error' && error.error) {
    const said = error.errorDescription ? `: “${error.errorDescription}”` : ''
    const hint = error.error === 'access_denied' ? ' The sign-in was cancelled or refused at the provider; press Sign in to try again.' : ''
    return `authorization_error: the provider answered ${error.error}${said}.${hint}`
  }
  return describeError(error)
}

function describeError(error) {
  if (!error) return ''
  const parts = [error.code ?? error.name, error.message]
  if (error.error) parts.push(`(${error.error}${error.errorDescription ? `: ${error.errorDescription}` : ''})`)
  return parts.filter(Boolean).join(' ')
}

for (const event of EVENTS) {
  auth.on(event, (payload) => {
    let detail = ''
    if (event === 'login') view.loggedOut = false
    if (event === 'logout') view.loggedOut = true
    if (event === 'login') detail = payload?.user?.sub ? `sub ${payload.user.sub}` : ''
    else if (event === 'token_refreshed') detail = `scope "${payload.scope}", expires ${time(payload.expiresAt)}`
    else if (payload?.error) detail = describeError(payload.error)
    logEvent(event, detail)
    if (event === 'storage_fallback') {
      fatal(`IndexedDB is unavailable: the SDK keeps this session in memory only (${describeError(payload.error)})`)
    }
    scheduleRefreshView()
  })
}

// ---------------------------------------------------------------------------------------------
// Snapshot

function renderSnapshot() {
  const snap = auth.getSnapshot()
  const status = $('status')
  status.textContent = snap.status
  status.dataset.status = snap.status
  const user = snap.user
  setText('who', user ? (user.name ? `${user.name} (${user.sub})` : user.sub) : '')
  const signedIn = snap.status === 'authenticated'
  $('login').disabled = snap.status !== 'unauthenticated'
  for (const id of ['force-refresh', 'logout', 'logout-local']) $(id).disabled = !signedIn
  setText('tab-snapshot', `${snap.status}${user ? `, sub ${user.sub}` : ''}${snap.error ? `, error ${snap.error.code}` : ''}`)
  $('tab-snapshot').dataset.status = snap.status
  document.body.dataset.status = snap.status
  renderClaims(user)
}

auth.subscribe(() => {
  view.snapshotChanges += 1
  setText('tab-changes', view.snapshotChanges)
  const snap = auth.getSnapshot()
  logEvent('snapshot', `→ ${snap.status}${snap.error ? ` (${snap.error.code})` : ''}`, 'snapshot')
  renderSnapshot()
  scheduleRefreshView()
})

function renderClaims(user) {
  show('claims-empty', !user)
  panelState('panel-claims', user ? 'done' : 'idle')
  const rows = user
    ? Object.entries(user).map(([k, v]) => {
        let note
        if ((k === 'exp' || k === 'iat' || k === 'auth_time') && typeof v === 'number') note = new Date(v * 1000).toLocaleString()
        if (k === 'nonce' && view.callbackNonce) note = v === view.callbackNonce ? 'matches the transaction' : 'does not match the transaction'
        return [k, v, note]
      })
    : []
  fillTable('id-claims', rows)
}

// ---------------------------------------------------------------------------------------------
// 1. Discovery

const DISCOVERY_FIELDS = [
  ['issuer', 'must equal the configured issuer exactly'],
  ['authorization_endpoint', 'where login() sends the browser'],
  ['token_endpoint', 'code and refresh grants'],
  ['revocation_endpoint', 'logout() revokes the refresh token here'],
  ['end_session_endpoint', 'RP-initiated logout'],
  ['jwks_uri', 'the provider\'s signing keys'],
  ['code_challenge_methods_supported', 'the SDK always uses S256'],
  ['authorization_response_iss_parameter_supported', 'RFC 9207: the callback carries iss'],
  ['dpop_signing_alg_values_supported', 'DPoP proof algorithms'],
  ['id_token_signing_alg_values_supported', 'the SDK accepts these, never none'],
  ['pushed_authorization_request_endpoint', 'PAR, optional'],
  ['grant_types_supported', undefined],
]

async function loadDiscovery() {
  const base = client.issuer.replace(/\/$/, '')
  const url = `${base}/.well-known/openid-configuration`
  setText('discovery-url', url)
  panelState('panel-discovery', 'waiting')
  try {
    const res = await fetch(url, { headers: { accept: 'application/json' } })
    if (!res.ok) throw new Error(`HTTP ${res.status}`)
    const doc = await res.json()
    view.discovery = doc
    fillTable('discovery', DISCOVERY_FIELDS.filter(([k]) => doc[k] !== undefined).map(([k, note]) => [k, doc[k], note]))
    setText('discovery-json', JSON.stringify(doc, null, 2))
    panelState('panel-discovery', 'done')
  } catch (e) {
    fillTable('discovery', [['error', `could not read the discovery document: ${e.message}`]])
    panelState('panel-discovery', 'error')
  }
}

// ---------------------------------------------------------------------------------------------
// 2. Authorization request

const PARAM_NOTES = {
  response_type: 'code: the authorization code flow',
  client_id: 'this app, a public client (no secret)',
  redirect_uri: 'must be registered exactly',
  scope: 'offline_access asks for a refresh token',
  state: 'random, ties the callback to this transaction (CSRF)',
  nonce: 'random, must come back inside the ID token',
  code_challenge: 'SHA-256 of the code verifier',
  code_challenge_method: 'PKCE with SHA-256',
  resource: 'RFC 8707: the API the access token is for',
  dpop_jkt: 'thumbprint of the DPoP key: binds the code to it',
  prompt: 'OpenID prompt',
  login_hint: 'pre-fills the username',
}

/**
 * Shows the request. `url`: the authorization URL the SDK navigated to (captured by the demo),
 * `txn`: the transaction record the SDK stored. Either may be missing.
 */
async function renderRequest({ url, txn, source }) {
  show('request-empty', false)
  show('request-body', true)
  setText('request-source', source)
  let params
  if (url) {
    const u = new URL(url)
    setText('auth-url', url)
    params = [...u.searchParams]
  } else if (txn) {
    setText('auth-url', '(the outgoing URL was not captured in this browser: parameters rebuilt from the stored transaction)')
    params = [
      ['response_type', 'code'],
      ['client_id', client.clientId],
      ['redirect_uri', txn.redirectUri],
      ['scope', txn.scope],
      ['state', txn.state],
      ...(txn.nonce ? [['nonce', txn.nonce]] : []),
      ['code_challenge', await pkceChallenge(txn.codeVerifier)],
      ['code_challenge_method', 'S256'],
      ...(txn.resources ?? []).map((r) => ['resource', r]),
      ...(txn.dpopJkt ? [['dpop_jkt', txn.dpopJkt]] : []),
    ]
  } else {
    params = []
  }
  fillTable('auth-params', params.map(([k, v]) => [k, v, PARAM_NOTES[k], k]))
  const sentChallenge = params.find(([k]) => k === 'code_challenge')?.[1]
  const check = $('pkce-check')
  if (txn?.codeVerifier) {
    setText('pkce-verifier', txn.codeVerifier)
    const computed = await pkceChallenge(txn.codeVerifier)
    setText('pkce-challenge', computed)
    const ok = sentChallenge === computed
    check.textContent = ok ? '✓ equals the code_challenge sent to the provider' : '✗ differs from the code_challenge sent'
    check.dataset.ok = String(ok)
    if (txn.state && params.some(([k, v]) => k === 'state' && v !== txn.state)) {
      check.textContent += ' (but the state differs: another transaction)'
    }
  } else {
    setText('pkce-verifier', 'not available: the transaction is gone (already redeemed) or was never stored here')
    setText('pkce-challenge', sentChallenge ?? '—')
    check.textContent = ''
    delete check.dataset.ok
  }
  panelState('panel-request', 'done')
}

function storedAuthorizeUrl(state) {
  try {
    const stored = JSON.parse(sessionStorage.getItem(DEMO_KEYS.authorize) ?? 'null')
    if (stored?.url && new URL(stored.url).searchParams.get('state') === state) return stored
  } catch {
    // ignore
  }
  return undefined
}

async function findPendingTransaction(state) {
  return readRecord('transactions', `${ns}|txn|${state}`)
}

if (canCapture) {
  // login() leaves the page with location.assign(); the Navigation API lets the demo see the
  // URL it goes to (and, when pausing, hold it) without changing the SDK.
  window.navigation.addEventListener('navigate', (event) => {
    if (!view.loggingIn) return
    let url
    try {
      url = new URL(event.destination.url)
    } catch {
      return
    }
    if (url.origin === location.origin) return
    view.loggingIn = false
    const state = url.searchParams.get('state') ?? ''
    sessionStorage.setItem(DEMO_KEYS.authorize, JSON.stringify({ url: url.href, at: Date.now() }))
    if (pauseBeforeRedirect && event.cancelable) {
      event.preventDefault()
      view.lastRequest = url.href
      void (async () => {
        const txn = state ? await findPendingTransaction(state) : undefined
        await renderRequest({
          url: url.href,
          txn,
          source: 'Captured as login() navigated away, and held here. The transaction below was read from IndexedDB (object store transactions).',
        })
        show('continue-login', true)
        panelState('panel-request', 'waiting')
        $('continue-login').focus()
        await renderStorage()
      })()
    }
  })
}

$('continue-login').addEventListener('click', () => {
  if (!view.lastRequest) return
  $('continue-login').disabled = true
  location.assign(view.lastRequest)
})

$('login').addEventListener('click', async () => {
  view.loggingIn = true
  panelState('panel-request', 'waiting')
  try {
    await auth.login({ returnTo: `/${location.search}` })
  } catch (e) {
    view.loggingIn = false
    panelState('panel-request', 'error')
    show('request-empty', true)
    setText('request-empty', `login() failed: ${describeError(e)}`)
  }
})

$('pause-before-redirect').addEventListener('change', (e) => {
  pauseBeforeRedirect = e.target.checked
  sessionStorage.setItem(DEMO_KEYS.pause, pauseBeforeRedirect ? '1' : '0')
})

// ---------------------------------------------------------------------------------------------
// 3. Callback

async function handleCallback() {
  show('callback-empty', false)
  show('callback-body', true)
  panelState('panel-callback', 'waiting')
  const p = callbackParams
  const codeCell = h('span', {}, h('code', { id: 'callback-code', class: 'secret', dataset: { secret: p.code ?? '' } }, p.code ? redact(p.code) : '—'))
  fillTable('callback-params', [
    ...(p.code !== undefined ? [['code', codeCell, 'single use, short-lived', 'code']] : []),
    ['state', p.state, callbackTxn ? 'a pending transaction has this state' : 'no pending transaction has this state'],
    ...(p.iss !== undefined ? [['iss', p.iss, p.iss === client.issuer ? 'equals the configured issuer' : 'differs from the configured issuer']] : []),
    ...(p.error !== undefined ? [['error', p.error]] : []),
    ...(p.error_description !== undefined ? [['error_description', p.error_description]] : []),
  ])

  const stored = storedAuthorizeUrl(p.state)
  if (stored || callbackTxn) {
    await renderRequest({
      url: stored?.url,
      txn: callbackTxn,
      source: stored
        ? `Captured by the demo when login() left this app at ${time(stored.at)}; the transaction was read from IndexedDB just before the callback consumed it.`
        : 'Rebuilt from the transaction the SDK stored in IndexedDB, read just before the callback consumed it.',
    })
  }
  view.callbackNonce = callbackTxn?.nonce

  const checks = $('callback-checks')
  checks.replaceChildren()
  const addCheck = (key, ok, text) => checks.append(h('li', { dataset: { check: key, ok: String(ok) } }, ok ? '✓ ' : '✗ ', text))
  try {
    const result = await auth.handleRedirectCallback()
    const user = result.user
    addCheck('state', true, 'state matched a pending transaction, which is now consumed (a replay finds nothing)')
    addCheck('iss', true, p.iss !== undefined ? 'iss equals the configured issuer (RFC 9207)' : 'the provider sent no iss (it does not support RFC 9207)')
    addCheck('code', true, 'the code was redeemed at the token endpoint with the code verifier (PKCE)')
    if (user) {
      const nonceOk = callbackTxn?.nonce === undefined || user.nonce === undefined || user.nonce === callbackTxn.nonce
      addCheck('id_token', nonceOk, `the ID token was validated: iss, aud = ${client.clientId}, exp, iat${callbackTxn?.nonce ? ', nonce of the transaction' : ''}`)
    }
    addCheck('scrubbed', !new URL(location.href).searchParams.has('code'), 'code, state and iss were removed from the address bar')
    const result$ = setText('callback-result', `handleRedirectCallback() resolved: signed in as ${user?.sub ?? '(no ID token)'}, returnTo ${result.returnTo}`)
    result$.dataset.ok = 'true'
    panelState('panel-callback', 'done')
    history.replaceState(null, '', result.returnTo || '/')
  } catch (e) {
    addCheck('result', false, 'handleRedirectCallback() rejected: nothing was stored')
    const result$ = setText('callback-result', callbackErrorText(e))
    result$.dataset.ok = 'false'
    result$.dataset.code = e?.code ?? ''
    panelState('panel-callback', 'error')
    history.replaceState(null, '', '/')
  }
}

// ---------------------------------------------------------------------------------------------
// 4, 6, 8, 9: tokens, storage, rotation history, DPoP (all read back from IndexedDB)

function summarizeRecord(store, value) {
  if (!value || typeof value !== 'object') return value
  const out = {}
  for (const [k, v] of Object.entries(value)) {
    if (k === 'token' || k === 'idToken') out[k] = redact(v)
    else if (k === 'codeVerifier') out[k] = v
    else if (k === 'keyPair' && v) out[k] = { privateKey: describeKey(v.privateKey), publicKey: describeKey(v.publicKey) }
    else if ((k === 'expiresAt' || k === 'createdAt' || k === 'takenAt') && typeof v === 'number') out[k] = `${v} (${new Date(v).toLocaleString()})`
    else out[k] = v
  }
  return out
}

function describeKey(key) {
  if (!(key instanceof CryptoKey)) return String(key)
  const alg = [key.algorithm?.name, key.algorithm?.namedCurve].filter(Boolean).join(' ')
  return `CryptoKey { type: ${key.type}, extractable: ${key.extractable}, algorithm: ${alg} }`
}

function shortKey(key) {
  return String(key).startsWith(`${ns}|`) ? `…|${String(key).slice(ns.length + 1)}` : String(key) === ns ? '(issuer|clientId)' : String(key)
}

async function renderStorage(all) {
  all ??= await readAllStores()
  const container = $('stores')
  if (!all) {
    container.replaceChildren(h('p', { class: 'empty' }, 'The database does not exist yet.'))
    return
  }
  container.replaceChildren(
    ...STORES.map((name) => {
      const mine = (all[name] ?? []).filter((r) => String(r.key) === ns || String(r.key).startsWith(`${ns}|`))
      const others = (all[name] ?? []).length - mine.length
      return h('div', { class: 'store', id: `store-${name}`, dataset: { count: String(mine.length) } },
        h('h3', {}, name, ' ', h('span', { class: 'count' }, `${mine.length} record${mine.length === 1 ? '' : 's'}`), ' ', h('small', { class: 'note' }, STORE_NOTES[name])),
        mine.length
          ? h('ul', { class: 'records' }, ...mine.map((r) =>
              h('li', { dataset: { key: String(r.key) } },
                h('code', { class: 'record-key', title: String(r.key) }, shortKey(r.key)),
                h('pre', { class: 'json' }, JSON.stringify(summarizeRecord(name, r.value), null, 2)),
              )))
          : h('p', { class: 'empty' }, 'empty'),
        others > 0 ? h('p', { class: 'note' }, `+ ${others} record(s) of another issuer or client (not shown)`) : null,
      )
    }),
  )
  const local = Object.keys(localStorage)
  const session = Object.keys(sessionStorage)
  const sdkSession = session.filter((k) => !k.startsWith('oauth-spa-demo:'))
  const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`
  const pending = local.filter((k) => /^oauth-spa:.*:pending:/.test(k))
  const otherLocal = local.length - pending.length
  const localText = local.length === 0
    ? 'localStorage: 0 keys.'
    : `localStorage: ${plural(local.length, 'key')}${pending.length ? `: ${pending.length === 1 ? 'the pending sign-in' : `${pending.length} pending sign-ins`} (${pending.map((k) => k.replace(/:pending:.*/, ':pending:<state>')).filter((k, i, all) => all.indexOf(k) === i).join(', ')}, gone when the callback completes)` : ''}${otherLocal ? `${pending.length ? ', and ' : ': '}${otherLocal} not of the SDK` : ''}.`
  const signedOut = sdkSession.filter((k) => k.endsWith(':signed-out')).length
  setText('other-storage',
    `${localText} sessionStorage: ${plural(sdkSession.length, 'key')} of the SDK${signedOut ? ' (the logout marker: the next sign-in asks for the form)' : ''}, ${session.length - sdkSession.length} of this demo (its settings and the last authorization URL, no token). Cookies of this origin: ${document.cookie ? document.cookie.split(';').length : 0}.`)
  $('other-storage').dataset.local = String(local.length)
  $('other-storage').dataset.sdkSession = String(sdkSession.length)
  panelState('panel-storage', 'done')
}

async function refreshView() {
  const all = await readAllStores()
  await renderStorage(all)
  const snap = auth.getSnapshot()
  const session = all?.id_tokens?.find((r) => r.key === ns)?.value
  const refresh = all?.refresh_tokens?.find((r) => r.key === ns)?.value
  const dpopKey = all?.dpop_keys?.find((r) => r.key === ns)?.value
  const accessRecords = (all?.access_tokens ?? []).filter((r) => String(r.key).startsWith(`${ns}|`) && r.value?.sub === session?.sub).map((r) => r.value)
  const resource = Array.isArray(client.resource) ? client.resource[0] : client.resource
  const access = accessRecords.filter((a) => (a.resource ?? undefined) === resource).sort((a, b) => b.expiresAt - a.expiresAt)[0] ?? accessRecords.sort((a, b) => b.expiresAt - a.expiresAt)[0]
  const signedIn = Boolean(session) && snap.status !== 'unauthenticated'

  view.access = signedIn ? access : undefined
  view.accessJwt = view.access ? decodeJwt(view.access.token) : undefined
  show('tokens-empty', !signedIn)
  show('tokens-body', signedIn)
  panelState('panel-tokens', signedIn ? 'done' : 'idle')
  if (signedIn) {
    setText('token-type', access ? (access.tokenType === 'dpop' ? 'DPoP' : 'Bearer') : '—')
    $('token-type').dataset.value = access?.tokenType ?? ''
    setText('token-scope', access?.scope || '(none)')
    setText('token-resource', access?.resource ?? '(none)')
    const jwt = view.accessJwt?.payload
    setText('token-lifetime', jwt?.exp && jwt?.iat ? `${jwt.exp - jwt.iat} s` : 'unknown (the access token is not a JWT)')
    setText('token-expires-at', access ? new Date(access.expiresAt).toLocaleString() : '—')
    setAllSecret('access-token', access?.token)
    setAllSecret('refresh-token', refresh?.token)
    setAllSecret('id-token', session?.idToken)
    view.accessFp = await fingerprint(access?.token)
    setText('at-fingerprint', view.accessFp ?? '—')
    setText('access-token-claims', view.accessJwt ? JSON.stringify(view.accessJwt, null, 2) : '(opaque token)')
  }

  // refresh token fingerprints (8 hex digits of its SHA-256)
  const fp = signedIn ? await fingerprint(refresh?.token) : undefined
  view.refreshFp = fp
  setText('rt-fingerprint', fp ?? '—')
  if (fp && view.rtHistory.at(-1)?.fp !== fp) view.rtHistory.push({ fp, at: Date.now() })
  renderHistory()
  panelState('panel-refresh', view.rtHistory.length > 1 ? 'done' : 'idle')

  // DPoP
  setText('dpop-state', dpop ? 'on: tokens are bound to this browser\'s key' : 'off: Bearer tokens')
  $('dpop-state').dataset.on = String(dpop)
  const jkt = dpopKey?.keyPair?.publicKey ? await jwkThumbprint(dpopKey.keyPair.publicKey).catch(() => undefined) : undefined
  setText('dpop-jkt', jkt ?? '—')
  const cnf = view.accessJwt?.payload?.cnf?.jkt
  setText('dpop-cnf', signedIn ? (cnf ?? 'none (not sender-constrained)') : '—')
  const match = signedIn && jkt && cnf ? jkt === cnf : undefined
  setText('dpop-match', match === undefined ? '—' : match ? '✓ yes' : '✗ no')
  $('dpop-match').dataset.ok = match === undefined ? '' : String(match)
  panelState('panel-dpop', dpop ? (match ? 'done' : 'idle') : 'idle')
  tick()
}

function setAllSecret(id, secret) {
  const el = $(id)
  el.dataset.length = secret ? String(secret.length) : '0'
  el.textContent = secret ? redact(secret) : '—'
  el.dataset.redacted = String(Boolean(secret) && !reveal)
}

/** What became of a refresh token: only the one in the store now is current. */
function historyLabel(entry, i) {
  if (i < view.rtHistory.length - 1) return h('span', { class: 'dead' }, ' rotated away')
  if (entry.fp === view.refreshFp) return h('span', { class: 'live' }, ' current')
  return h('span', { class: 'dead' }, view.loggedOut ? ' revoked and wiped at logout' : ' no longer in the store')
}

function renderHistory() {
  $('rt-history').replaceChildren(
    ...view.rtHistory.map((entry, i) =>
      h('li', { dataset: { fp: entry.fp } }, h('code', {}, entry.fp), ' ', h('span', { class: 'muted' }, `${i === 0 ? 'first seen' : 'after refresh'} at ${time(entry.at)}`), historyLabel(entry, i))),
  )
}

let refreshTimer
function scheduleRefreshView() {
  clearTimeout(refreshTimer)
  refreshTimer = setTimeout(() => void refreshView(), 50)
}

$('reveal-tokens').addEventListener('change', (e) => {
  reveal = e.target.checked
  const code = $('callback-code')
  if (code) code.textContent = redact(code.dataset.secret)
  void refreshView()
})

// ---------------------------------------------------------------------------------------------
// Countdown

function tick() {
  const access = view.access
  const bar = $('countdown-bar')
  const el = $('countdown')
  if (!access) {
    el.textContent = '—'
    el.dataset.remaining = ''
    bar.value = 0
    return
  }
  const remaining = Math.max(0, Math.round((access.expiresAt - Date.now()) / 1000))
  const jwt = view.accessJwt?.payload
  const lifetime = jwt?.exp && jwt?.iat ? jwt.exp - jwt.iat : Math.max(remaining, 1)
  const m = Math.floor(remaining / 60)
  const s = String(remaining % 60).padStart(2, '0')
  el.textContent = remaining > 0 ? `${m}:${s}` : 'expired'
  el.dataset.remaining = String(remaining)
  el.dataset.soon = String(remaining <= 30)
  bar.max = lifetime
  bar.value = Math.min(remaining, lifetime)
}
setInterval(tick, 1000)

// ---------------------------------------------------------------------------------------------
// 7. API

$('call-api').addEventListener('click', async () => {
  const url = $('api-url').value.trim()
  show('api-empty', false)
  show('api-body', true)
  panelState('panel-api', 'waiting')
  setText('api-status', '…')
  $('api-status').dataset.status = ''
  setText('api-response', '')
  setText('api-scheme', '')
  show('api-www-authenticate', false)
  if (!url) {
    setText('api-status', 'no URL')
    setText('api-response', 'This demo was started without an API. Pass --api-origin (and --api-url) to call yours.')
    panelState('panel-api', 'error')
    return
  }
  const started = performance.now()
  try {
    const res = await auth.fetch(url, { headers: { accept: 'application/json' } })
    const text = await res.text()
    let body = text
    try {
      body = JSON.stringify(JSON.parse(text), null, 2)
    } catch {
      // not JSON: show as text
    }
    setText('api-status', `${res.status} ${res.statusText}`.trim())
    $('api-status').dataset.status = String(res.status)
    setText('api-time', `${Math.round(performance.now() - started)} ms`)
    const allowed = (client.apiOrigins ?? []).includes(new URL(url, location.href).origin)
    setText('api-scheme', allowed ? `sent with Authorization: ${dpop ? 'DPoP … and a DPoP proof' : 'Bearer …'}` : 'origin not in apiOrigins: sent without a token')
    const challenge = res.headers.get('www-authenticate')
    if (challenge) {
      setText('api-www-authenticate', `WWW-Authenticate: ${challenge}`)
      show('api-www-authenticate', true)
    }
    setText('api-response', body)
    panelState('panel-api', res.ok ? 'done' : 'error')
  } catch (e) {
    setText('api-status', isOAuthError(e) ? e.code : e?.name ?? 'error')
    $('api-status').dataset.status = 'error'
    setText('api-response', isOAuthError(e) ? describeError(e) : `${e?.name}: ${e?.message} (a CORS or network failure looks like this)`)
    panelState('panel-api', 'error')
  }
  scheduleRefreshView()
})

// ---------------------------------------------------------------------------------------------
// 8. Forced refresh

$('force-refresh').addEventListener('click', async () => {
  const before = view.refreshFp
  const result = $('refresh-result')
  result.textContent = 'refreshing…'
  result.dataset.rotated = ''
  panelState('panel-refresh', 'waiting')
  try {
    await auth.getAccessToken({ forceRefresh: true })
    await refreshView()
    const after = view.refreshFp
    const rotated = Boolean(before && after && before !== after)
    result.textContent = rotated
      ? `New tokens. Refresh token rotated: ${before} → ${after}`
      : `New access token; the refresh token is unchanged (${after ?? 'none'}): this provider does not rotate it`
    result.dataset.rotated = String(rotated)
    panelState('panel-refresh', 'done')
  } catch (e) {
    result.textContent = `getAccessToken({ forceRefresh: true }) failed: ${describeError(e)}`
    result.dataset.rotated = 'error'
    panelState('panel-refresh', 'error')
    await refreshView()
  }
})

// ---------------------------------------------------------------------------------------------
// 9. DPoP toggle, 10. second tab, 11. logout

$('dpop-toggle').addEventListener('change', async (e) => {
  const next = e.target.checked
  e.target.disabled = true
  sessionStorage.setItem(DEMO_KEYS.dpop, next ? '1' : '0')
  if (auth.getSnapshot().status === 'authenticated') {
    await auth.logout({ localOnly: true }).catch(() => undefined)
  }
  const url = new URL('/', location.href)
  url.searchParams.set('dpop', next ? '1' : '0')
  location.replace(url.href)
})

$('open-tab').addEventListener('click', () => {
  const url = new URL('/', location.href)
  if (dpop) url.searchParams.set('dpop', '1')
  window.open(url.href, '_blank')
})

async function doLogout(localOnly) {
  sessionStorage.setItem(DEMO_KEYS.logout, JSON.stringify({ at: Date.now(), localOnly }))
  const result = $('logout-result')
  result.classList.remove('empty')
  result.textContent = localOnly ? 'Logging out of this app…' : 'Logging out: wiping the stores, revoking the refresh token, then off to the provider…'
  panelState('panel-logout', 'waiting')
  try {
    await auth.logout(localOnly ? { localOnly: true } : {})
    if (localOnly) {
      sessionStorage.removeItem(DEMO_KEYS.logout)
      result.textContent = 'Logged out of this app: every store is wiped and the refresh token revoked. The provider\'s own session is still there, but the next sign-in asks for its form anyway: the SDK sends prompt=login after a logout.'
      result.dataset.done = 'local'
      panelState('panel-logout', 'done')
      await refreshView()
    }
  } catch (e) {
    result.textContent = `logout() failed: ${describeError(e)}`
    panelState('panel-logout', 'error')
  }
}
$('logout').addEventListener('click', () => void doLogout(false))
$('logout-local').addEventListener('click', () => void doLogout(true))

$('clear-log').addEventListener('click', () => $('event-log').replaceChildren())

// ---------------------------------------------------------------------------------------------
// Start

renderMode()
renderSnapshot()
const discovered = loadDiscovery()

const loggedOut = sessionStorage.getItem(DEMO_KEYS.logout)
if (loggedOut && !callbackParams) {
  sessionStorage.removeItem(DEMO_KEYS.logout)
  const result = $('logout-result')
  result.classList.remove('empty')
  result.textContent = 'Back from the provider\'s end-session endpoint: signed out here, at the provider, and in every other tab.'
  result.dataset.done = 'provider'
  panelState('panel-logout', 'done')
}

if (callbackParams) await handleCallback()
await refreshView()
// A failed callback is the one thing to read on this page: bring it into view once the panels
// above it (discovery loads on its own) have their final height.
if ($('callback-result')?.dataset.ok === 'false') {
  await discovered
  $('callback-result').scrollIntoView({ block: 'center' })
}
document.body.dataset.ready = 'true'
