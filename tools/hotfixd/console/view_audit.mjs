// view_audit.mjs — the audit log (GET /v1/admin/audit): every write, who
// made it, when, why, and what it did; filtered by environment (the server
// filters), actor, action, flag and words of the reason (the console filters
// the pages it reads, reading further back until it has a page of matches or
// has read ten pages; "Search further back" goes on from there).

import * as api from './api.mjs';
import { h, replaceKeepingFocus } from './dom.mjs';
import { ACTIONS, actionText, agoText, count, timeText } from './format.mjs';
import * as router from './router.mjs';
import { code, errorNotice, loading, notice, table, title } from './widgets.mjs';

const PAGE = 200;
const WANT = 50;
const MAX_PAGES = 10;

function keysOf(entry) {
  const d = entry.detail || {};
  return [...(d.changed_keys || []), ...(d.flags || [])];
}

function matches(entry, f) {
  if (f.actor && !entry.actor.toLowerCase().includes(f.actor.toLowerCase())) return false;
  if (f.action && entry.action !== f.action) return false;
  if (f.flag && !keysOf(entry).some((k) => k.toLowerCase().includes(f.flag.toLowerCase()))) return false;
  if (f.text && !entry.reason.toLowerCase().includes(f.text.toLowerCase())) return false;
  return true;
}

// What an entry did, beyond its action: the flags, a tag, a percentage, the
// version rolled back to, the summary lines.
function detailText(entry) {
  const d = entry.detail || {};
  const parts = [];
  const keys = keysOf(entry);
  if (keys.length) parts.push(keys.join(', '));
  if (d.tag) parts.push(`tag ${d.tag}`);
  if (d.percent !== undefined) parts.push(`${d.percent}%`);
  if (d.rollback_to !== undefined) parts.push(`to v${d.rollback_to}`);
  if (d.request !== undefined) parts.push(`request ${d.request}${d.approved_by ? `, approved by ${d.approved_by}` : ''}`);
  if (d.name && d.token_id) parts.push(`token ${d.name}`);
  if (Array.isArray(d.summary) && d.summary.length) parts.push(d.summary.join('; '));
  return parts.join(' · ');
}

export async function show(ctx, route) {
  const q = route.query;
  const fields = {
    env: h('select', { id: 'audit-env' }),
    actor: h('input', { id: 'audit-actor', type: 'search', autocomplete: 'off', value: q.get('actor') || '' }),
    action: h('select', { id: 'audit-action' }, h('option', { value: '' }, 'Any action'),
      Object.keys(ACTIONS).map((a) => h('option', { value: a }, `${a} (${ACTIONS[a]})`))),
    flag: h('input', { id: 'audit-flag', type: 'search', autocomplete: 'off', value: q.get('flag') || '' }),
    text: h('input', { id: 'audit-text', type: 'search', autocomplete: 'off', value: q.get('text') || '' }),
  };
  // A token bound to one environment reads that one's log only.
  const envs = (await api.get('/v1/admin/envs')).data.environments.map((e) => e.name);
  fields.env.replaceChildren(...(ctx.me.env ? [] : [h('option', { value: '' }, 'All environments')]),
    ...envs.map((e) => h('option', { value: e }, e)));
  // In the address: no env is this one, "*" all of them.
  const wanted = q.get('env');
  fields.env.value = wanted === null ? ctx.env : wanted === '*' ? '' : wanted;
  fields.action.value = q.get('action') || '';

  const status = h('p', { class: 'count', role: 'status' });
  const list = h('div', null, loading('the audit log'));
  const further = h('button', { type: 'button', class: 'button', hidden: true, on: { click: () => scan() } }, 'Search further back');
  let entries = [];
  let before = null;
  let read = 0;
  let exhausted = false;

  const filters = () => ({
    actor: fields.actor.value.trim(), action: fields.action.value, flag: fields.flag.value.trim(), text: fields.text.value.trim(),
  });

  function draw() {
    const f = filters();
    const shown = entries.filter((e) => matches(e, f));
    status.textContent = `${count(shown.length, 'entry', 'entries')} shown of ${read} read` +
      (exhausted ? ' (the whole log)' : entries.length ? `, back to ${timeText(entries[entries.length - 1].time)}` : '');
    replaceKeepingFocus(list, shown.length === 0
      ? notice('info', 'No entry matches.')
      : table('Audit log', ['When', 'Who', 'Action', 'Environment', 'Version', 'Reason', 'Detail'],
        shown.map((e) => [
          h('time', { datetime: e.time, title: timeText(e.time) }, `${timeText(e.time)} (${agoText(e.time)})`),
          e.actor,
          h('span', null, code(e.action), ` ${actionText(e.action)}`),
          e.env || '—',
          e.version === null ? '—' : (e.env
            ? h('a', { href: router.href('history', { env: e.env }, { from: e.version - 1, to: e.version }) }, `v${e.version}`)
            : `v${e.version}`),
          h('span', { class: 'reason' }, e.reason),
          detailText(e),
        ]), { className: 'audit-table' }));
    further.hidden = exhausted;
  }

  // Reads pages until a page of matches is shown or MAX_PAGES were read.
  async function scan() {
    further.disabled = true;
    const f = filters();
    try {
      let pages = 0;
      while (!exhausted && pages < MAX_PAGES && (pages === 0 || entries.filter((e) => matches(e, f)).length < WANT)) {
        const { data } = await api.get('/v1/admin/audit', { query: { env: fields.env.value, limit: PAGE, before: before ?? undefined } });
        entries.push(...data.entries);
        read += data.entries.length;
        before = data.next_before ?? null;
        exhausted = before === null;
        pages += 1;
      }
      draw();
    } catch (error) {
      replaceKeepingFocus(list, errorNotice(error));
    } finally {
      further.disabled = false;
    }
  }

  async function restart() {
    entries = [];
    before = null;
    read = 0;
    exhausted = false;
    const f = filters();
    router.record(router.href('audit', { env: ctx.env }, { env: fields.env.value === ctx.env ? '' : fields.env.value || '*', ...f }));
    await scan();
  }

  const form = h('form', {
    class: 'filters', role: 'search', 'aria-label': 'Filter the audit log',
    on: { submit: (event) => { event.preventDefault(); restart(); } },
  },
  h('div', { class: 'field' }, h('label', { for: 'audit-env' }, 'Environment'), fields.env),
  h('div', { class: 'field' }, h('label', { for: 'audit-actor' }, 'Actor'), fields.actor),
  h('div', { class: 'field' }, h('label', { for: 'audit-action' }, 'Action'), fields.action),
  h('div', { class: 'field' }, h('label', { for: 'audit-flag' }, 'Flag'), fields.flag),
  h('div', { class: 'field' }, h('label', { for: 'audit-text' }, 'Reason contains'), fields.text),
  h('button', { type: 'submit', class: 'button' }, 'Filter'));
  fields.env.addEventListener('change', restart);
  fields.action.addEventListener('change', restart);

  ctx.root.append(title('Audit log'), form, status, list, further);
  await scan();
  return { refresh: restart };
}
