// diff_view.mjs — a diff from the API (docs/admin-api.md, "Diffs") as
// something a person reads: per flag what happened and, field by field,
// the value before and after. Used by history, the flag editor's preview,
// kill-by-tag's preview and change requests.

import { h } from './dom.mjs';
import { count } from './format.mjs';
import { code, notice, table } from './widgets.mjs';

const CHANGES = { added: 'added', removed: 'removed', changed: 'changed' };

// A value as compact JSON, or "(not set)" where one side lacks the field
// (the API sends null, or leaves it out).
function side(field, name) {
  const value = field[name];
  return value === undefined || value === null
    ? h('span', { class: 'muted' }, '(not set)') : code(JSON.stringify(value));
}

function fieldTable(caption, fields) {
  return table(caption, ['Field', 'Before', 'After'],
    fields.map((f) => [code(f.path), side(f, 'before'), side(f, 'after')]), { className: 'diff' });
}

// renderDiff()
//
// `diff` is {flags: [{key, change, fields}], segments, other}; `summary` the
// API's one line per flag ("fix-123: killed"), shown first when given.
export function renderDiff(diff, summary = []) {
  const flags = (diff && diff.flags) || [];
  const segments = (diff && diff.segments) || [];
  const other = (diff && diff.other) || [];
  if (flags.length + segments.length + other.length === 0) {
    return notice('info', 'No differences.');
  }
  return h('div', { class: 'diff-view' },
    summary.length ? h('ul', { class: 'summary' }, summary.map((line) => h('li', null, line))) : null,
    h('p', { class: 'muted' }, `${count(flags.length, 'flag')} changed` +
      (segments.length ? `, ${count(segments.length, 'segment field')}` : '') +
      (other.length ? `, ${count(other.length, 'other field')}` : '')),
    flags.map((f) => h('div', { class: 'diff-flag' },
      h('h3', null, code(f.key), ' ', h('span', { class: `change change-${f.change}` }, CHANGES[f.change] || f.change)),
      f.fields.length ? fieldTable(`Fields of ${f.key}`, f.fields) : null)),
    segments.length ? [h('h3', null, 'Segments'), fieldTable('Segment fields', segments)] : null,
    other.length ? [h('h3', null, 'Other'), fieldTable('Other fields', other)] : null);
}
