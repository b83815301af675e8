// Building the page from data without HTML strings: every
// text goes in as text, so nothing from memory can become markup.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (key === 'class') {
      el.className = value;
    } else if (value === true) {
      el.setAttribute(key, '');
    } else {
      el.setAttribute(key, value);
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export function entityHref(name) {
  return `#/entity/${encodeURIComponent(name)}`;
}

export function when(ms) {
  const date = new Date(ms);
  const seconds = Math.round((Date.now() - ms) / 1000);
  let text;
  if (seconds < 45) text = 'just now';
  else if (seconds < 90 * 60) text = `${Math.max(1, Math.round(seconds / 60))} min ago`;
  else if (seconds < 36 * 3600) text = `${Math.round(seconds / 3600)} h ago`;
  else text = date.toLocaleDateString(undefined, { year: 'numeric', month: 'short', day: 'numeric' });
  return h('time', { datetime: date.toISOString(), title: date.toLocaleString() }, text);
}

// Who made a change: tool, session, project, actor, as short tags.
export function origin(change) {
  if (!change) return h('span', { class: 'meta' }, 'origin unknown (history purged)');
  return h('span', { class: 'meta' },
    when(change.at),
    h('span', { class: 'tag tool' }, change.tool),
    change.session && h('span', { class: 'tag', title: 'session' }, `session ${change.session}`),
    change.project && h('span', { class: 'tag', title: 'project' }, change.project),
    change.actor && h('span', { class: 'tag', title: 'actor' }, `by ${change.actor}`));
}

export function state(text, ...extra) {
  return h('p', { class: 'state' }, text, ...extra);
}

export function failure(error, retry) {
  return h('div', { class: 'state error', role: 'alert' },
    h('p', {}, `Could not load this: ${error.message}.`),
    retry && h('button', { type: 'button', onclick: retry }, 'Try again'));
}

let toastTimer = null;
export function toast(text, kind = 'ok') {
  const el = document.getElementById('toast');
  el.className = kind;
  el.textContent = text;
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, 5000);
}
