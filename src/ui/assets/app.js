// The view's entry point: log in with the token of the URL's fragment (then
// drop it from the URL), route between the pages, and keep one live stream
// of changes open for whichever page is shown.

import { get, post, setSession, mySession } from './api.js';
import { h, clear, toast } from './dom.js';
import { setupSearch } from './search.js';
import { entityView } from './entity.js';
import { changesView } from './changes.js';

const main = document.getElementById('main');
let page = null;
let stream = null;

function ended(reason) {
  stream?.close();
  page?.leave();
  page = null;
  document.getElementById('q').disabled = true;
  document.body.dataset.session = 'none';
  clear(main, h('div', { class: 'state ended', id: 'ended' },
    h('h1', {}, 'This view is not logged in'),
    h('p', {}, reason),
    h('p', {}, 'Run ', h('code', {}, 'memgraphd ui'), ' again in a terminal: it opens a fresh link.')));
}

async function currentSession() {
  setSession(await get('/api/session'));
}

async function logIn() {
  const fragment = new URLSearchParams(location.hash.slice(1));
  const token = fragment.get('token');
  if (token) {
    // The token is spent now, whatever happens: take it out of the URL and
    // of the history before anything else.
    history.replaceState(null, '', `${location.pathname}${location.search}#/`);
    try {
      setSession(await post('/api/login', { token }));
      return true;
    } catch (error) {
      try {
        await currentSession();
        toast('That link was used already or is too old; this browser is still logged in.');
        return true;
      } catch {
        ended(error.status === 401
          ? 'This login link was used already, or is more than two minutes old.'
          : `The daemon did not log this browser in: ${error.message}.`);
        return false;
      }
    }
  }
  try {
    await currentSession();
    return true;
  } catch (error) {
    if (error.status === 401) ended('Your session has ended: the daemon restarted, or it was idle for 12 hours.');
    else ended(`The daemon does not answer: ${error.message}.`);
    return false;
  }
}

function route() {
  page?.leave();
  const hash = location.hash || '#/';
  const entity = hash.match(/^#\/entity\/(.+)$/);
  if (entity) {
    const name = decodeURIComponent(entity[1]);
    document.title = `${name} · memgraphd`;
    page = entityView(main, name);
  } else {
    document.title = 'memgraphd';
    page = changesView(main);
  }
  window.scrollTo(0, 0);
}

function live() {
  const badge = document.getElementById('live');
  stream = new EventSource('/api/live');
  stream.addEventListener('open', () => {
    badge.className = 'live on';
    badge.title = 'Live updates: on';
    document.body.dataset.live = 'on';
  });
  stream.addEventListener('error', async () => {
    badge.className = 'live';
    badge.title = 'Live updates: reconnecting';
    document.body.dataset.live = 'off';
    if (stream.readyState === EventSource.CLOSED) {
      // Refused rather than cut: find out whether the session is over.
      try {
        await get('/api/session');
        setTimeout(live, 3000);
      } catch {
        // `session-lost` has said what to do.
      }
    }
  });
  stream.addEventListener('change', (event) => {
    const change = JSON.parse(event.data);
    document.body.dataset.lastChange = String(change.id);
    if (page?.live) page.live(change);
    // This page's own writes redraw it when they are answered.
    if (page?.changed && change.session !== mySession()) page.changed(change);
  });
}

window.addEventListener('session-lost', () =>
  ended('Your session has ended: the daemon restarted, or it was idle for 12 hours.'));

// Recorded for the browser test, and harmless: the policy forbids inline
// code and foreign requests, and a violation here means a bug of ours.
window.cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});

if (await logIn()) {
  document.body.dataset.session = 'open';
  const input = document.getElementById('q');
  input.disabled = false;
  setupSearch();
  // A new link pasted into this tab only changes the fragment: log in
  // with it before showing anything.
  window.addEventListener('hashchange', async () => {
    if (location.hash.includes('token=') && !(await logIn())) return;
    route();
  });
  route();
  live();
}
