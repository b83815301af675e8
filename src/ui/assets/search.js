// Search as you type: ranked search_memory hits under the box, moved
// through with the arrow keys, opened with Enter or a click.

import { get } from './api.js';
import { h, clear, entityHref } from './dom.js';

const DELAY_MS = 150;

export function setupSearch() {
  const input = document.getElementById('q');
  const list = document.getElementById('results');
  let timer = null;
  let asked = 0;
  let active = -1;
  let next = null;
  let query = '';

  const items = () => [...list.querySelectorAll('li[role=option]')];
  const close = () => { list.hidden = true; active = -1; input.setAttribute('aria-expanded', 'false'); };
  const open = () => { list.hidden = false; input.setAttribute('aria-expanded', 'true'); };
  const mark = (index) => {
    const all = items();
    all.forEach((li, i) => li.setAttribute('aria-selected', String(i === index)));
    active = index;
    if (all[index]) all[index].scrollIntoView({ block: 'nearest' });
  };
  const go = (name) => {
    close();
    input.blur();
    location.hash = entityHref(name);
  };

  const row = (hit) => h('li', { role: 'option', 'aria-selected': 'false', 'data-name': hit.name,
    onmousedown: (e) => { e.preventDefault(); go(hit.name); } },
    h('span', { class: 'hit-name' }, hit.name),
    h('span', { class: 'tag' }, hit.entityType),
    h('span', { class: 'hit-count' }, `${hit.observationCount} obs.`),
    hit.snippet && h('span', { class: 'snippet' }, hit.snippet));

  async function run(more) {
    const mine = ++asked;
    if (!more) {
      clear(list, h('li', { class: 'hint' }, 'Searching…'));
      open();
    }
    try {
      const params = { q: query };
      if (more && next) Object.assign(params, next);
      const page = await get('/api/search', params);
      if (mine !== asked) return;
      list.querySelector('.more')?.remove();
      if (!more) clear(list);
      if (!more && page.results.length === 0) {
        list.append(h('li', { class: 'hint' }, `Nothing matches “${query}”. Try fewer or other words.`));
      }
      list.append(...page.results.map(row));
      next = page.next;
      if (next) {
        list.append(h('li', { class: 'more hint', onmousedown: (e) => { e.preventDefault(); run(true); } },
          'More results…'));
      }
      if (!more) mark(page.results.length ? 0 : -1);
    } catch (error) {
      if (mine !== asked) return;
      clear(list, h('li', { class: 'hint error' }, `Search failed: ${error.message}`));
    }
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    query = input.value.trim();
    if (!query) { asked++; close(); return; }
    timer = setTimeout(() => run(false), DELAY_MS);
  });
  input.addEventListener('keydown', (e) => {
    const all = items();
    if (e.key === 'ArrowDown' && all.length) { e.preventDefault(); open(); mark(Math.min(active + 1, all.length - 1)); }
    else if (e.key === 'ArrowUp' && all.length) { e.preventDefault(); mark(Math.max(active - 1, 0)); }
    else if (e.key === 'Enter') {
      e.preventDefault();
      const pick = all[active] || all[0];
      if (pick) go(pick.dataset.name);
    } else if (e.key === 'Escape') { close(); input.blur(); }
  });
  input.addEventListener('blur', () => setTimeout(close, 100));
  input.addEventListener('focus', () => { if (query && list.children.length) open(); });
  document.addEventListener('keydown', (e) => {
    if (e.key === '/' && document.activeElement?.tagName !== 'INPUT' && document.activeElement?.tagName !== 'TEXTAREA') {
      e.preventDefault();
      input.focus();
      input.select();
    }
  });
}
