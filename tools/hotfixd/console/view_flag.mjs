// view_flag.mjs — one flag: its state in plain words, the kill / revive
// button (it asks for a reason and nothing else), the rollout control (with
// a confirmation that says what changes), what it serves to whom, its
// recent history, pending change requests, and the JSON editor. Read-only
// tokens see the same page without any control that writes.

import * as api from './api.mjs';
import { askReason } from './dialogs.mjs';
import { rollout, stateText, variantText, isKilled } from './describe.mjs';
import { h, replaceKeepingFocus } from './dom.mjs';
import { flagEditor } from './flag_editor.mjs';
import {
  detailsSection, guardSection, prerequisitesSection, rulesSection, targetsSection, variantsSection,
} from './flag_sections.mjs';
import { actionText, agoText, timeText } from './format.mjs';
import * as router from './router.mjs';
import { badge, errorNotice, loading, notice, section, title } from './widgets.mjs';

const PREVIEW_REASON = 'console: preview (dry run, not stored)';

async function load(env, key) {
  const [flag, meta, history, stats] = await Promise.all([
    api.get(api.envPath(env, 'flags', key)),
    api.get(api.envPath(env, 'metadata')),
    api.get(api.envPath(env, 'history'), { query: { limit: 200 } }),
    // Telemetry is a courtesy: the page shows without it.
    api.get(api.envPath(env, 'flags', key, 'stats')).catch(() => null),
  ]);
  return {
    version: flag.data.version,
    flag: flag.data.flag,
    meta: meta.data.flags.find((m) => m.key === key),
    stats: stats && stats.data,
    changes: history.data.versions.filter((v) => v.changed_keys.includes(key)).slice(0, 10),
  };
}

// Change requests of a protected environment that touch this flag.
async function pendingRequests(env, key) {
  const { data } = await api.get(api.envPath(env, 'requests'), { query: { state: 'proposed' } });
  return data.requests.filter((r) => r.diff && r.diff.flags.some((f) => f.key === key));
}

function killControl(ctx, key, flag, reload) {
  const killed = isKilled(flag);
  const action = killed ? 'revive' : 'kill';
  return h('button', {
    type: 'button', id: 'kill-button', class: ['button', 'button-large', killed ? 'button-primary' : 'button-danger'],
    dataset: { focus: 'kill' },
    on: {
      click: async () => {
        const answer = await askReason({
          title: killed ? `Revive ${key}?` : `Kill ${key}?`,
          intro: killed
            ? `${key} goes back to its rules and rollout for everyone.`
            : `Everyone gets ${flag.off_variant ? variantText(flag, flag.off_variant) : 'their own default'} at once, ` +
              'whatever the rules say. Services following hotfixd switch within a second.',
          confirm: killed ? 'Revive' : 'Kill',
          danger: !killed,
          run: (reason) => api.post(api.envPath(ctx.env, 'flags', key, action), { reason }),
        });
        if (!answer) return;
        ctx.wrote(answer, `${killed ? 'Revived' : 'Killed'} ${key} (version ${answer.data.version}).`);
        reload();
      },
    },
  }, killed ? `Revive ${key}` : `Kill ${key}`);
}

// The rollout form. `typed` ({value}) carries what the operator typed
// across live refreshes of the page, until it is applied. `plan` is the
// flag's staged rollout, if any: a change by hand stops an active one, and
// the confirmation says so.
function rolloutControl(ctx, key, flag, version, reload, typed, plan) {
  const r = rollout(flag);
  if (!r.editable) return h('p', { class: 'muted' }, r.why);
  const start = typed.value ?? String(r.percent);
  const number = h('input', {
    id: 'rollout-percent', type: 'number', min: '0', max: '100', step: 'any', value: start,
    class: 'percent', 'aria-describedby': 'rollout-hint', dataset: { focus: 'rollout-percent' },
  });
  const slider = h('input', {
    id: 'rollout-slider', type: 'range', min: '0', max: '100', step: '1', value: String(Math.round(Number(start))),
    'aria-label': `Rollout of ${r.variant}, in percent`, dataset: { focus: 'rollout-slider' },
  });
  slider.addEventListener('input', () => { number.value = slider.value; typed.value = number.value; });
  number.addEventListener('input', () => { slider.value = number.value; typed.value = number.value; });
  const problem = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'rollout-form', novalidate: true },
    h('label', { for: 'rollout-percent', class: 'label' }, `Share of users who get ${variantText(flag, r.variant)}, in percent`),
    h('p', { id: 'rollout-hint', class: 'hint' }, 'Raising it only adds users: everyone who has it keeps it.'),
    h('div', { class: 'rollout-inputs' }, slider, number, h('span', null, '%'),
      h('button', { type: 'submit', class: 'button button-primary', dataset: { focus: 'rollout-submit' } }, 'Change rollout…')),
    problem);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const percent = Number(number.value);
    if (number.value === '' || !(percent >= 0 && percent <= 100)) {
      problem.replaceChildren(notice('error', 'Give a percentage from 0 to 100.'));
      return;
    }
    if (percent === r.percent) {
      problem.replaceChildren(notice('info', `The rollout already is ${percent}%.`));
      return;
    }
    problem.replaceChildren();
    let preview;
    try {
      preview = await api.post(api.envPath(ctx.env, 'flags', key, 'rollout'),
        { body: { percent }, reason: PREVIEW_REASON, dryRun: true, ifMatch: version });
    } catch (error) {
      problem.replaceChildren(errorNotice(error));
      return;
    }
    const answer = await askReason({
      title: `Change the rollout of ${key}?`,
      intro: `From ${r.percent}% to ${percent}% of users get ${variantText(flag, r.variant)}. ` +
        (percent > r.percent ? 'Only users are added.' : 'Some users who have it lose it.'),
      content: [
        h('ul', { class: 'summary' }, preview.data.summary.map((line) => h('li', null, line))),
        plan && plan.state === 'active'
          ? notice('warn', `A staged rollout of ${key} is running (stage ${plan.stage + 1}); changing the rollout by hand stops it.`)
          : null,
      ],
      confirm: `Set to ${percent}%`,
      run: (reason) => api.post(api.envPath(ctx.env, 'flags', key, 'rollout'), { body: { percent }, reason, ifMatch: version }),
    });
    if (!answer) return;
    typed.value = null;
    ctx.wrote(answer, `${key} now rolls out to ${percent}% (version ${answer.data.version}).`);
    reload();
  });
  return form;
}

function changesSection(env, key, changes) {
  return section('Recent changes',
    changes.length === 0 ? h('p', null, 'No change to this flag in the last 200 versions.') :
      h('ol', { class: 'changes' }, changes.map((v) => h('li', null,
        h('a', { href: router.href('history', { env }, { from: v.version - 1, to: v.version }) }, `v${v.version}`),
        ` · ${v.actor} ${actionText(v.action)} · `,
        h('time', { datetime: v.time, title: timeText(v.time) }, agoText(v.time)),
        h('div', { class: 'reason' }, `“${v.reason}”`)))),
    h('p', null, h('a', { href: router.href('history', { env }) }, 'All versions of this environment')));
}

export async function show(ctx, route) {
  const key = route.key;
  const body = h('div', null, loading(key));
  ctx.root.append(
    h('p', { class: 'crumbs' }, h('a', { href: router.href('flags', { env: ctx.env }) }, `← Flags in ${ctx.env}`)),
    body);
  const editor = ctx.canWrite ? flagEditor(ctx, key, () => refresh()) : null;
  const typed = { value: null };
  let firstLoad = true;

  async function refresh() {
    let data;
    try {
      data = await load(ctx.env, key);
    } catch (error) {
      replaceKeepingFocus(body, title(key), errorNotice(error));
      return;
    }
    const { flag, meta, version } = data;
    let pending = [];
    if (ctx.info.protected) pending = await pendingRequests(ctx.env, key).catch(() => []);
    const killed = isKilled(flag);
    replaceKeepingFocus(body,
      title(key, badge(meta.type, 'muted'), killed ? badge('Killed', 'danger') : null, meta.stale ? badge('Stale', 'warn') : null),
      h('p', { class: ['state', killed ? 'state-killed' : 'state-live'] }, stateText(flag)),
      meta.description ? h('p', { class: 'description' }, meta.description) : null,
      pending.length ? notice('warn', `Waiting for approval: ${pending.map((p) => `request ${p.id} by ${p.proposer} (“${p.reason}”)`).join('; ')}. `,
        h('a', { href: router.href('requests', { env: ctx.env }) }, 'See change requests')) : null,
      ctx.canWrite ? h('div', { class: 'actions kill-actions' }, killControl(ctx, key, flag, refresh)) : null,
      ctx.canWrite ? section('Rollout', rolloutControl(ctx, key, flag, version, refresh, typed, data.stats && data.stats.plan)) : null,
      guardSection(data.stats),
      rulesSection(flag),
      targetsSection(flag),
      prerequisitesSection(ctx.env, flag),
      variantsSection(flag),
      detailsSection(ctx.env, meta),
      changesSection(ctx.env, key, data.changes),
      editor ? section('Edit', editor.element) : null);
    if (editor) editor.load(flag, version, firstLoad);
    firstLoad = false;
  }

  await refresh();
  return { refresh };
}
