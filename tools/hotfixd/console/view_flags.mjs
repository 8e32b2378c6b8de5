// view_flags.mjs — the flags of one environment: search, filters (tag,
// owner, killed, stale or expired, guarded) and one row per flag with its
// state, rollout percentage, the version that last changed it, owner and
// ticket. The filters live in the URL, so a filtered list can be shared
// ("everything tagged payments that is killed").

import * as api from './api.mjs';
import { h, replaceKeepingFocus } from './dom.mjs';
import { rollout, stateBadge } from './describe.mjs';
import { count } from './format.mjs';
import * as router from './router.mjs';
import { badge, code, errorNotice, loading, notice, table, title } from './widgets.mjs';

// How far back the list looks for the version that last changed each flag.
const HISTORY_LIMIT = 1000;

// Everything the list shows, from three reads: the metadata (owners,
// tickets, staleness, staged rollouts), the set itself (rollouts) and the history
// (the last version to change each flag).
async function load(env) {
  const [meta, set, history] = await Promise.all([
    api.get(api.envPath(env, 'metadata')),
    api.get(api.envPath(env, 'flags')),
    api.get(api.envPath(env, 'history'), { query: { limit: HISTORY_LIMIT } }),
  ]);
  const versions = history.data.versions;
  const complete = history.data.next_before === undefined;
  const oldest = versions.length ? versions[versions.length - 1].version : 1;
  const changed = new Map();
  for (const v of versions) for (const key of v.changed_keys) if (!changed.has(key)) changed.set(key, v.version);
  const flags = meta.data.flags.map((m) => {
    const definition = set.data.flags[m.key] || {};
    return {
      ...m,
      definition,
      // A staged rollout with a guard is running (guarded rollouts).
      guarded: m.rollout_plan === 'active',
      // Not in the history read: created with the environment (complete
      // history), or changed before the oldest version read.
      changedIn: changed.has(m.key) ? `v${changed.get(m.key)}` : complete ? `v${oldest}` : `before v${oldest}`,
    };
  });
  return { version: meta.data.version, flags };
}

function matches(flag, filters) {
  const q = filters.q.toLowerCase();
  if (q && ![flag.key, flag.description, flag.owner, flag.ticket, ...flag.tags]
    .some((text) => String(text || '').toLowerCase().includes(q))) return false;
  if (filters.tag && !flag.tags.includes(filters.tag)) return false;
  if (filters.owner && flag.owner !== filters.owner) return false;
  if (filters.killed && !flag.killed) return false;
  if (filters.stale && !flag.stale) return false;
  if (filters.guarded && !flag.guarded) return false;
  return true;
}

function rolloutCell(flag) {
  const r = rollout(flag.definition);
  if (r.percent === null) return h('span', { class: 'muted' }, '—');
  return h('span', { class: 'rollout-cell' },
    h('meter', { min: '0', max: '100', value: String(r.percent), 'aria-label': `${flag.key} rollout` }),
    ` ${r.percent}% ${r.variant}`);
}

function row(env, flag) {
  const state = stateBadge(flag.definition);
  return [
    h('div', { class: 'flag-cell' },
      h('a', { href: router.href('flag', { env, key: flag.key }), class: 'flag-link', dataset: { focus: `flag:${flag.key}` } }, flag.key),
      flag.description ? h('div', { class: 'muted small description' }, flag.description) : null,
      flag.tags.length ? h('div', { class: 'tags' }, flag.tags.map((t) => badge(t, 'muted'))) : null),
    h('span', null, badge(state.label, state.tone), flag.stale ? [' ', badge('Stale', 'warn')] : null,
      flag.guarded ? [' ', badge('Guarded', 'rules')] : null),
    rolloutCell(flag),
    h('a', { href: router.href('history', { env }), class: 'version' }, flag.changedIn),
    flag.owner || h('span', { class: 'muted' }, '—'),
    flag.ticket ? code(flag.ticket) : h('span', { class: 'muted' }, '—'),
  ];
}

// Replaces a <select>'s options, keeping its value when it still exists.
function setOptions(select, anyText, values) {
  const keep = select.value;
  select.replaceChildren(h('option', { value: '' }, anyText),
    ...values.map(([value, text]) => h('option', { value }, text)));
  select.value = values.some(([v]) => v === keep) ? keep : '';
}

export async function show(ctx, route) {
  const q = route.query;
  const filters = {
    q: q.get('q') || '',
    tag: q.get('tag') || '',
    owner: q.get('owner') || '',
    killed: q.get('killed') === '1',
    stale: q.get('stale') === '1',
    guarded: q.get('guarded') === '1',
  };
  let data = null;

  const search = h('input', { id: 'flag-search', type: 'search', value: filters.q, placeholder: 'key, description, owner, ticket, tag', autocomplete: 'off' });
  const tag = h('select', { id: 'flag-tag' });
  const owner = h('select', { id: 'flag-owner' });
  const checks = {};
  const checkLabels = {};
  for (const [name, text] of [['killed', 'Killed'], ['stale', 'Stale or expired'], ['guarded', 'Guarded']]) {
    checks[name] = h('input', { type: 'checkbox', id: `only-${name}`, checked: filters[name] });
    checkLabels[name] = h('span', null, text);
  }
  const summary = h('p', { class: 'count', role: 'status' });
  const results = h('div', { class: 'results' }, loading('flags'));

  const form = h('form', { role: 'search', class: 'filters', 'aria-label': 'Filter flags' },
    h('div', { class: 'field' }, h('label', { for: 'flag-search' }, 'Search'), search),
    h('div', { class: 'field' }, h('label', { for: 'flag-tag' }, 'Tag'), tag),
    h('div', { class: 'field' }, h('label', { for: 'flag-owner' }, 'Owner'), owner),
    h('fieldset', { class: 'field checks' }, h('legend', null, 'Only'),
      Object.keys(checks).map((name) => h('label', { for: `only-${name}`, class: 'check' }, checks[name], checkLabels[name]))));

  const draw = () => {
    if (!data) return;
    filters.q = search.value.trim();
    filters.tag = tag.value;
    filters.owner = owner.value;
    for (const name of Object.keys(checks)) filters[name] = checks[name].checked;
    router.record(router.href('flags', { env: ctx.env }, {
      q: filters.q, tag: filters.tag, owner: filters.owner,
      killed: filters.killed && '1', stale: filters.stale && '1', guarded: filters.guarded && '1',
    }));
    const shown = data.flags.filter((f) => matches(f, filters));
    summary.textContent = `${shown.length} of ${count(data.flags.length, 'flag')} · environment version ${data.version}`;
    replaceKeepingFocus(results, shown.length === 0
      ? notice('info', data.flags.length === 0 ? 'This environment has no flags yet.' : 'No flag matches these filters.')
      : table(`Flags of ${ctx.env}`, ['Flag', 'State', 'Rollout', 'Changed in', 'Owner', 'Ticket'],
        shown.map((f) => row(ctx.env, f)), { className: 'flags-table' }));
    return shown;
  };

  // Filters and counts that depend on the data (tags, owners, how many are
  // killed, stale, guarded).
  const fill = () => {
    const tags = new Map();
    for (const f of data.flags) for (const t of f.tags) tags.set(t, (tags.get(t) || 0) + 1);
    setOptions(tag, 'Any tag', [...tags].sort().map(([t, n]) => [t, `${t} (${n})`]));
    if (!tag.value && filters.tag && tags.has(filters.tag)) tag.value = filters.tag;
    const owners = [...new Set(data.flags.map((f) => f.owner).filter(Boolean))].sort();
    setOptions(owner, 'Any owner', owners.map((o) => [o, o]));
    if (!owner.value && filters.owner && owners.includes(filters.owner)) owner.value = filters.owner;
    for (const name of Object.keys(checks)) {
      const n = data.flags.filter((f) => f[name]).length;
      checkLabels[name].textContent = `${{ killed: 'Killed', stale: 'Stale or expired', guarded: 'Guarded' }[name]} (${n})`;
      // A filter that would show nothing is off (until the data changes).
      checks[name].disabled = n === 0 && !checks[name].checked;
    }
  };

  search.addEventListener('input', draw);
  search.addEventListener('keydown', (event) => {
    if (event.key !== 'Enter') return;
    event.preventDefault();
    const shown = draw();
    if (shown && shown.length === 1) router.go(router.href('flag', { env: ctx.env, key: shown[0].key }));
  });
  form.addEventListener('change', draw);
  form.addEventListener('submit', (event) => event.preventDefault());

  ctx.root.append(title(`Flags in ${ctx.env}`), form, summary, results);

  const refresh = async () => {
    try {
      data = await load(ctx.env);
      fill();
      draw();
    } catch (error) {
      replaceKeepingFocus(results, errorNotice(error));
    }
  };
  await refresh();
  return { refresh };
}
