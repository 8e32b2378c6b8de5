// view_history.mjs — every version of an environment, newest first, with
// actor, time, reason and the flags it changed; a readable diff between any
// two versions; and rollback to any of them, with a reason, as a new version
// (history is never rewritten, so a rollback can be rolled back).

import * as api from './api.mjs';
import { askReason } from './dialogs.mjs';
import { renderDiff } from './diff_view.mjs';
import { h, replaceKeepingFocus } from './dom.mjs';
import { actionText, agoText, timeText } from './format.mjs';
import * as router from './router.mjs';
import { badge, errorNotice, loading, section, table, title } from './widgets.mjs';

const PAGE = 50;

function diffQuery(env, from, to) {
  return { query: { from: `${env}@${from}`, to: `${env}@${to}` } };
}

export async function show(ctx, route) {
  const env = ctx.env;
  const versions = [];
  let current = 0;
  let older = null;  // next_before, while there are older versions
  const compareFrom = h('select', { id: 'compare-from' });
  const compareTo = h('select', { id: 'compare-to' });
  const diffBox = h('div', { class: 'diff-box', 'aria-live': 'polite' });
  const list = h('div', null, loading('history'));
  const more = h('button', { type: 'button', class: 'button', hidden: true, on: { click: () => page() } }, 'Older versions');

  async function showDiff(from, to) {
    diffBox.replaceChildren(loading(`the changes from v${from} to v${to}`));
    try {
      const { data } = await api.get('/v1/admin/diff', diffQuery(env, from, to));
      diffBox.replaceChildren(section(`Changes from v${from} to v${to}`, renderDiff(data.diff, data.summary)));
    } catch (error) {
      diffBox.replaceChildren(errorNotice(error));
    }
  }

  async function rollback(target) {
    const base = current;
    let preview;
    try {
      preview = (await api.get('/v1/admin/diff', diffQuery(env, base, target))).data;
    } catch (error) {
      ctx.toast(error.message, 'error');
      return;
    }
    const answer = await askReason({
      title: `Roll back ${env} to version ${target}?`,
      intro: `Creates version ${base + 1} holding the flags of version ${target}. Nothing is erased: this too can be rolled back.`,
      content: renderDiff(preview.diff, preview.summary),
      confirm: `Roll back to v${target}`,
      danger: true,
      run: (reason) => api.post(api.envPath(env, 'rollback'), { body: { version: target }, reason, ifMatch: base }),
    });
    if (!answer) return;
    ctx.wrote(answer, `Rolled ${env} back to version ${target} (now version ${answer.data.version}).`);
    await reload();
  }

  function rows() {
    return versions.map((v) => [
      h('span', null, `v${v.version}`, v.version === current ? [' ', badge('current', 'ok')] : null),
      h('time', { datetime: v.time, title: timeText(v.time) }, `${timeText(v.time)} (${agoText(v.time)})`),
      v.actor,
      h('span', null, actionText(v.action), v.restored_version !== null ? ` (restored v${v.restored_version})` : ''),
      h('span', { class: 'reason' }, v.reason),
      v.changed_keys.length
        ? h('span', { class: 'keys' }, v.changed_keys.map((k) => [h('a', { href: router.href('flag', { env, key: k }) }, k), ' ']))
        : h('span', { class: 'muted' }, '—'),
      h('span', { class: 'row-actions' },
        v.version > 1 ? h('a', {
          href: router.href('history', { env }, { from: v.version - 1, to: v.version }),
          dataset: { focus: `changes:${v.version}` },
        }, 'What changed') : null,
        ctx.canWrite && v.version !== current ? h('button', {
          type: 'button', class: 'button button-small', dataset: { focus: `rollback:${v.version}` },
          on: { click: () => rollback(v.version) },
        }, `Roll back to v${v.version}…`) : null),
    ]);
  }

  function draw() {
    const options = (select, chosen) => {
      select.replaceChildren(...versions.map((v) => h('option', { value: String(v.version) },
        `v${v.version} · ${v.actor} · ${actionText(v.action)}`)));
      select.value = String(chosen);
    };
    options(compareFrom, compareFrom.value || route.query.get('from') || Math.max(1, current - 1));
    options(compareTo, compareTo.value || route.query.get('to') || current);
    replaceKeepingFocus(list, table(`Versions of ${env}`,
      ['Version', 'When', 'Who', 'What', 'Reason', 'Flags', 'Actions'], rows(), { className: 'history-table' }));
    more.hidden = older === null;
  }

  async function page() {
    try {
      const { data } = await api.get(api.envPath(env, 'history'), { query: { limit: PAGE, before: older ?? undefined } });
      current = data.current_version;
      versions.push(...data.versions);
      older = data.next_before ?? null;
      draw();
    } catch (error) {
      replaceKeepingFocus(list, errorNotice(error));
    }
  }

  async function reload() {
    versions.length = 0;
    older = null;
    await page();
  }

  const compare = h('form', {
    class: 'compare', 'aria-label': 'Compare two versions',
    on: {
      submit: (event) => {
        event.preventDefault();
        router.record(router.href('history', { env }, { from: compareFrom.value, to: compareTo.value }));
        showDiff(Number(compareFrom.value), Number(compareTo.value));
      },
    },
  },
  h('div', { class: 'field' }, h('label', { for: 'compare-from' }, 'From'), compareFrom),
  h('div', { class: 'field' }, h('label', { for: 'compare-to' }, 'To'), compareTo),
  h('button', { type: 'submit', class: 'button' }, 'Compare'));

  ctx.root.append(title(`History of ${env}`), compare, diffBox, list, more);
  await page();
  if (route.query.has('from') && route.query.has('to')) {
    await showDiff(Number(route.query.get('from')), Number(route.query.get('to')));
  }
  return { refresh: reload };
}
