/**
 * Cross-tab sync: turns the messages of other tabs into the session's events. A message carries no
 * token; for a sign-in or a refresh this tab re-reads the store and sends what it found, for a
 * logout or an ended session it sends that at once (the table then leaves nothing usable here,
 * also where this tab keeps its tokens in memory only).
 *
 * @module
 */
import { OAuthError } from '../errors.js'
import type { TokenStore } from '../store/token-store.js'
import type { TabChannel } from './channel.js'
import type { Runner } from './runner.js'

/** Connects `channel` to `runner`. */
export function syncTabs(channel: TabChannel, store: TokenStore, runner: Runner): void {
  channel.onMessage((message) => {
    store.dropCache()
    if (message.type === 'logout') return void runner.send('remoteLogout')
    if (message.type === 'expired') {
      return void runner.send('remoteExpired', { cause: new OAuthError('login_required', 'the session ended in another tab') })
    }
    // A refresh elsewhere says nothing to a page that wipes or whose session ended; a sign-in does.
    if (runner.state === 'signingOut' || (message.type === 'refreshed' && runner.state === 'ended')) return
    const generation = runner.generation
    void store.loadSession().then(
      (s) => {
        if (generation !== runner.generation) return
        if (message.type === 'login') {
          // (With storage: 'memory' another tab's sign-in is not readable here: nothing changes.)
          if (s) runner.send('remoteSignIn')
        } else runner.send(s ? 'found' : 'notFound')
      },
      () => undefined,
    )
  })
}
