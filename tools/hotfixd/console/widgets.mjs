// widgets.mjs — the small pieces every view uses: headings, badges,
// notices, definition lists, tables, loading and error states. Each returns
// an element built with h(), so all text stays text.

import { h } from './dom.mjs';
import { explain } from './format.mjs';

// The view's title. It takes focus when the view opens (tabindex -1), so a
// keyboard or screen-reader user starts at the top of what changed.
export function title(text, ...after) {
  return h('div', { class: 'title' }, h('h1', { tabindex: '-1' }, text), ...after);
}

// A short label with a tone: danger, ok, off, rollout, rules, warn, muted.
export function badge(text, tone = 'muted') {
  return h('span', { class: ['badge', `badge-${tone}`] }, text);
}

// A boxed message; tone error is announced (role alert).
export function notice(tone, ...children) {
  return h('div', { class: ['notice', `notice-${tone}`], role: tone === 'error' ? 'alert' : null }, ...children);
}

export function errorNotice(error) {
  return notice('error', explain(error));
}

export function loading(what) {
  return h('p', { class: 'loading', 'aria-busy': 'true' }, `Loading ${what}…`);
}

export function section(heading, ...children) {
  return h('section', { class: 'section' }, h('h2', null, heading), ...children);
}

// A definition list from [term, description] pairs; empty descriptions
// show as "—".
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.map(([term, value]) => [
    h('dt', null, term),
    h('dd', null, value === '' || value === null || value === undefined ? '—' : value),
  ]));
}

// table(caption, headers, rows): rows are arrays of cells (text or nodes).
// On narrow screens each row becomes a card, cells labelled by their header
// (data-label, shown by the stylesheet).
export function table(caption, headers, rows, { className } = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', { class: ['table', className] },
      h('caption', { class: 'visually-hidden' }, caption),
      h('thead', null, h('tr', null, headers.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', null, rows.map((cells) => h('tr', null,
        cells.map((c, i) => h('td', { dataset: { label: headers[i] } }, c)))))));
}

// A <code> span for keys, variant names and values.
export function code(text) {
  return h('code', null, text);
}
