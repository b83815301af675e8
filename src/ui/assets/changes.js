// Recent changes of every session, newest first, filterable by project and
// session; new ones arrive live from the daemon's change feed.

import { get } from './api.js';
import { h, clear, origin, state, failure } from './dom.js';

export function changesView(main) {
  const filters = { project: '', session: '' };
  const sessions = new Set();
  const projectPick = h('select', { id: 'project-filter', 'aria-label': 'Project',
    onchange: () => { filters.project = projectPick.value; load(); } }, h('option', { value: '' }, 'every project'));
  const sessionPick = h('select', { id: 'session-filter', 'aria-label': 'Session',
    onchange: () => { filters.session = sessionPick.value; load(); } }, h('option', { value: '' }, 'every session'));
  const list = h('ul', { id: 'changes', class: 'history' });
  const body = h('div', {}, state('Loading recent changes…'));
  let older = null;

  clear(main,
    h('div', { class: 'entity-head' }, h('h1', {}, 'Recent changes'),
      h('span', { class: 'meta' }, 'every session, live')),
    h('div', { class: 'filters' }, projectPick, sessionPick),
    h('section', { class: 'card' }, body));

  const row = (c) => h('li', { class: 'change', 'data-change': String(c.id) },
    h('div', { class: 'change-line' }, h('span', { class: 'summary' }, c.summary)), origin(c));

  const known = (c) => {
    if (c.session && !sessions.has(c.session)) {
      sessions.add(c.session);
      sessionPick.append(h('option', { value: c.session }, c.session));
    }
  };
  const shown = (c) => (!filters.project || c.project === filters.project) &&
    (!filters.session || c.session === filters.session);

  function emptyHint() {
    return filters.project || filters.session
      ? state('No change matches these filters.')
      : state('No changes yet. When an agent writes to memory, the change appears here at once.');
  }

  async function load(more = false) {
    if (!more) older = null;
    try {
      const page = await get('/api/changes', { ...filters, before: more ? older : undefined });
      page.changes.forEach(known);
      if (!more) clear(list);
      list.append(...page.changes.map(row));
      older = page.next;
      clear(body, list.children.length ? list : emptyHint(),
        older && h('button', { type: 'button', class: 'more', onclick: () => load(true) }, 'Older changes'));
    } catch (error) {
      clear(body, failure(error, () => load(more)));
    }
  }

  async function loadProjects() {
    try {
      const { projects } = await get('/api/projects');
      for (const p of projects) projectPick.append(h('option', { value: p.project }, `${p.project} (${p.changes})`));
    } catch {
      // The filter just stays at "every project".
    }
  }

  loadProjects();
  load();
  return {
    live(change) {
      known(change);
      if (!shown(change) || list.querySelector(`[data-change="${change.id}"]`)) return;
      const li = row(change);
      li.classList.add('fresh');
      list.prepend(li);
      if (!list.isConnected) clear(body, list);
    },
    leave() {},
  };
}
