// The provider's own HTML pages (sign-in form, sign-out confirmation, errors). They replace
// oidc-provider's defaults, which pull web fonts: nothing here loads from the internet.
import { escapeHtml } from './util.mjs'

export function sendHtml(res, status, html) {
  res.statusCode = status
  res.setHeader('Content-Type', 'text/html; charset=utf-8')
  res.end(html)
}

const STYLE = 'body{font-family:system-ui,sans-serif;margin:2rem auto;max-width:22rem}label,input,button{display:block;width:100%;margin:.3rem 0}input{padding:.4rem}button{padding:.5rem}.error{color:#b00}'

export function page(title, body) {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>`
}

export function loginPage({ uid, params, error, login = '', users }) {
  return page('Sign in', `
<p>to continue to <strong id="client">${escapeHtml(params.client_id)}</strong></p>
${error ? `<p class="error" id="login-error" role="alert">${escapeHtml(error)}</p>` : ''}
<form id="login-form" method="post" action="/interaction/${escapeHtml(uid)}/login" autocomplete="off">
  <label for="login">Username</label>
  <input id="login" name="login" type="text" required autofocus value="${escapeHtml(login)}">
  <label for="password">Password</label>
  <input id="password" name="password" type="password" required>
  <button id="submit" type="submit">Sign in</button>
</form>
<form id="abort-form" method="post" action="/interaction/${escapeHtml(uid)}/abort">
  <button id="deny" type="submit">Cancel</button>
</form>
<p><small>Demo users: ${[...users.values()].map((u) => `${escapeHtml(u.username)} / ${escapeHtml(u.password)}`).join(', ')}</small></p>`)
}

/** oidc-provider's `rpInitiatedLogout.logoutSource`. */
export async function logoutSource(ctx, form) {
  ctx.type = 'html'
  ctx.body = page('Sign out', `
<p>Do you want to sign out from ${escapeHtml(ctx.host)}?</p>
${form}
<button id="logout-yes" autofocus type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button id="logout-no" type="submit" form="op.logoutForm">No, stay signed in</button>`)
}

/** oidc-provider's `rpInitiatedLogout.postLogoutSuccessSource`. */
export async function postLogoutSuccessSource(ctx) {
  ctx.type = 'html'
  ctx.body = page('Signed out', '<p id="signed-out">Your sign-out was successful.</p>')
}

/** oidc-provider's `renderError`. */
export async function renderError(ctx, out) {
  ctx.type = 'html'
  ctx.body = page('Error', `<pre id="error">${escapeHtml(out.error)}</pre><pre id="error-description">${escapeHtml(out.error_description ?? '')}</pre>`)
}
