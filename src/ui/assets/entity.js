// An entity's page: its observations (when and by whom each was written,
// each editable), its relations, the graph around it, and its history with
// an undo button per change.

import { get, post } from './api.js';
import { h, clear, entityHref, origin, state, failure, toast } from './dom.js';
import { drawGraph } from './graph.js';

let graph = null;

export function entityView(main, name) {
  let depth = 1;
  let editing = 0;
  const title = h('h1', {}, name);
  const type = h('span', { class: 'tag type' });
  const counts = h('span', { class: 'meta' });
  const observations = h('section', { class: 'card', 'aria-labelledby': 'obs-h' });
  const relations = h('section', { class: 'card' });
  const history = h('section', { class: 'card' });
  const canvas = h('div', { id: 'graph', class: 'graph', 'aria-label': `Graph around ${name}` });
  const graphNote = h('p', { class: 'meta' });
  const depthPick = h('select', { id: 'depth', 'aria-label': 'Depth',
    onchange: () => { depth = Number(depthPick.value); loadGraph(); } },
    h('option', { value: '1' }, 'depth 1'), h('option', { value: '2' }, 'depth 2'));

  clear(main,
    h('div', { class: 'entity-head' }, title, type, counts),
    h('div', { class: 'columns' },
      h('div', { class: 'col' }, observations, relations),
      h('div', { class: 'col' },
        h('section', { class: 'card' }, h('div', { class: 'card-head' }, h('h2', {}, 'Neighbourhood'), depthPick),
          canvas, graphNote),
        history)));
  observations.append(state('Loading observations…'));

  // `quiet`: a refresh because another session wrote; it leaves an undo's
  // refusal on screen rather than redraw the history under the reader.
  async function load(quiet = false) {
    if (editing) return;
    let data;
    try {
      data = await get('/api/entity', { name });
    } catch (error) {
      if (error.status === 404) {
        clear(main, h('div', { class: 'state' }, h('h1', {}, name),
          h('p', {}, 'No entity has this name (any more). It may have been deleted; its history is under Changes.'),
          h('a', { href: '#/' }, 'See recent changes')));
        return;
      }
      clear(observations, failure(error, load));
      return;
    }
    type.textContent = data.entityType;
    counts.textContent = `${data.observationCount} observation${data.observationCount === 1 ? '' : 's'}`;
    renderObservations(data);
    renderRelations(data);
    if (!(quiet && history.querySelector('.undo-msg:not([hidden])'))) renderHistory(data.history);
  }

  function renderObservations(data) {
    const list = h('ul', { class: 'observations' });
    for (const obs of data.observations) list.append(observationRow(obs));
    clear(observations, h('h2', { id: 'obs-h' }, 'Observations'),
      data.observations.length ? list : state('No observations. Agents add them with add_observations.'),
      data.observationCount > data.observations.length &&
        h('p', { class: 'meta' }, `Showing the first ${data.observations.length} of ${data.observationCount}.`));
  }

  function observationRow(obs) {
    const text = h('p', { class: 'obs-text' }, obs.content);
    const li = h('li', { class: 'observation' }, text, h('div', { class: 'obs-foot' }, origin(obs.change),
      h('button', { type: 'button', class: 'link edit', onclick: () => edit() }, 'Edit')));
    function edit() {
      editing++;
      const box = h('textarea', { class: 'edit-box', rows: '3', 'aria-label': 'New text of the observation' });
      box.value = obs.content;
      const done = () => { editing = Math.max(0, editing - 1); };
      const save = h('button', { type: 'button', class: 'primary save', onclick: async () => {
        const next = box.value.trim();
        if (!next || next === obs.content) { done(); load(); return; }
        save.disabled = true;
        try {
          await post('/api/supersede', { entity: name, old: obs.content, new: next });
          toast('Observation replaced. Undo it from the history if it was a mistake.');
          done();
          load();
        } catch (error) {
          save.disabled = false;
          toast(`Not saved: ${error.message}`, 'error');
        }
      } }, 'Save');
      const cancel = h('button', { type: 'button', onclick: () => { done(); clear(li, text, foot); } }, 'Cancel');
      const foot = li.lastChild;
      clear(li, box, h('div', { class: 'actions' }, save, cancel));
      box.focus();
      box.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) save.click();
        if (e.key === 'Escape') cancel.click();
      });
    }
    return li;
  }

  function renderRelations(data) {
    const list = h('ul', { class: 'relations' });
    for (const r of data.relations) {
      const out = r.from === name;
      list.append(h('li', {},
        out ? h('span', { class: 'arrow' }, '→') : h('span', { class: 'arrow' }, '←'),
        h('span', { class: 'rel-type' }, r.relationType),
        h('a', { href: entityHref(out ? r.to : r.from) }, out ? r.to : r.from)));
    }
    clear(relations, h('h2', {}, 'Relations'),
      data.relations.length ? list : state('No relations. Agents add them with create_relations.'),
      data.moreRelations && h('p', { class: 'meta' }, `Showing the first ${data.relations.length}; the graph shows more.`));
  }

  function renderHistory(page) {
    const list = h('ul', { class: 'history' });
    for (const c of page.changes) list.append(historyRow(c));
    clear(history, h('h2', {}, 'History'),
      page.changes.length ? list : state('No recorded change.'),
      page.next && h('p', { class: 'meta' }, 'Older changes: memgraphd history --entity NAME'));
  }

  function historyRow(change) {
    const message = h('div', { class: 'undo-msg', role: 'alert', hidden: true });
    const undo = async (force) => {
      try {
        const done = await post('/api/undo', { change: change.id, force });
        toast(`Undone: ${done.summary}`);
        load();
      } catch (error) {
        message.hidden = false;
        if (error.status === 409 && error.body.conflict && !force) {
          clear(message, h('p', {}, `Not undone: ${error.message}`),
            h('button', { type: 'button', class: 'danger force', onclick: () => undo(true) },
              'Undo anyway (what later changes touched stays as they left it)'));
        } else {
          clear(message, h('p', {}, `Not undone: ${error.message}`));
        }
      }
    };
    return h('li', { class: 'change', 'data-change': String(change.id) },
      h('div', { class: 'change-line' }, h('span', { class: 'summary' }, change.summary),
        change.tool !== 'before history' &&
          h('button', { type: 'button', class: 'undo', title: `Undo change ${change.id}`, onclick: () => undo(false) }, 'Undo')),
      origin(change), message);
  }

  async function loadGraph() {
    graphNote.textContent = 'Loading the graph…';
    try {
      const data = await get('/api/neighbors', { name, depth });
      graph?.destroy();
      if (data.edges.length === 0) {
        graph = null;
        clear(canvas);
        graphNote.textContent = 'No relations to draw yet.';
        return;
      }
      graph = drawGraph(canvas, data, (other) => { location.hash = entityHref(other); });
      graphNote.textContent = `${data.nodes.length} entities, ${data.edges.length} relations` +
        (data.more ? ' (the nearest; there are more)' : '') + '. Click one to open it.';
    } catch (error) {
      graphNote.textContent = `The graph could not be loaded: ${error.message}.`;
    }
  }

  load();
  loadGraph();
  let pending = null;
  return {
    // Another session wrote: show it, unless the user is typing an edit.
    changed() {
      clearTimeout(pending);
      pending = setTimeout(() => { load(true); loadGraph(); }, 250);
    },
    leave() { clearTimeout(pending); graph?.destroy(); graph = null; },
  };
}

