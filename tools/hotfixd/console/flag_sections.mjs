// flag_sections.mjs — the read-only parts of the flag page: variants,
// targets, rules, prerequisites and metadata in words and tables (never raw
// JSON), and the place for guard and telemetry numbers, which appears only
// when the server sends them.

import { h } from './dom.mjs';
import { clauseText, ruleText, serveText, valueText, variantText } from './describe.mjs';
import { agoText, timeText } from './format.mjs';
import * as router from './router.mjs';
import { badge, code, facts, section, table } from './widgets.mjs';

// Target keys shown per variant before "and N more".
const MAX_KEYS = 50;

export function variantsSection(flag) {
  const roles = (name) => [
    flag.off_variant === name ? badge('off variant', 'muted') : null,
    (typeof flag.default === 'string' ? flag.default : flag.default && flag.default.variant) === name
      ? badge('default', 'muted') : null,
  ];
  return section('Variants', table('Variants', ['Variant', 'Value', 'Role'],
    Object.entries(flag.variants || {}).map(([name, value]) => [code(name), code(valueText(value)), h('span', null, roles(name))])));
}

export function targetsSection(flag) {
  if (!flag.targets || flag.targets.length === 0) return null;
  return section('Targets', h('p', { class: 'muted' }, 'These context keys get a variant before any rule is looked at.'),
    h('ul', { class: 'plain' }, flag.targets.map((t) => h('li', null,
      h('strong', null, variantText(flag, t.variant)), ': ',
      h('span', { class: 'keys' }, t.keys.slice(0, MAX_KEYS).map((k) => code(k))),
      t.keys.length > MAX_KEYS ? ` and ${t.keys.length - MAX_KEYS} more` : ''))));
}

export function rulesSection(flag) {
  const rules = flag.rules || [];
  return section('Rules',
    rules.length === 0 ? h('p', null, 'No rules.') : h('ol', { class: 'rules' }, rules.map((rule, i) =>
      h('li', null, h('span', { class: 'visually-hidden' }, `Rule ${i + 1}: `), ruleText(flag, rule),
        rule.if && rule.if.length > 1
          ? h('ul', { class: 'clauses' }, rule.if.map((c) => h('li', null, clauseText(c)))) : null))),
    h('p', { class: 'fallthrough' }, h('strong', null, rules.length ? 'Otherwise: ' : 'Everyone: '),
      `serve ${serveText(flag, flag.default)}`));
}

export function prerequisitesSection(env, flag) {
  if (!flag.prerequisites || flag.prerequisites.length === 0) return null;
  return section('Prerequisites',
    h('p', { class: 'muted' }, `Unless all of these hold, the flag serves ${flag.off_variant || 'the caller\'s default'}.`),
    h('ul', { class: 'plain' }, flag.prerequisites.map((p) => h('li', null,
      h('a', { href: router.href('flag', { env, key: p.flag }) }, p.flag), ' must serve ', code(p.variant)))));
}

export function detailsSection(env, meta) {
  const expires = meta.expires
    ? h('span', null, `${timeText(meta.expires)} (${agoText(meta.expires)})`, meta.stale ? [' ', badge('Stale', 'warn')] : null)
    : '';
  return section('Details', facts([
    ['Type', meta.type],
    ['Owner', meta.owner],
    ['Ticket', meta.ticket ? code(meta.ticket) : ''],
    ['Description', meta.description],
    ['Expires', expires],
    ['Tags', meta.tags.length ? h('span', { class: 'tags' }, meta.tags.map((t) =>
      h('a', { href: router.href('flags', { env }, { tag: t }), class: 'tag-link' }, t))) : ''],
  ]));
}

// guardSection()
//
// What the fleet reports about the flag (GET .../flags/{key}/stats, from
// SDK telemetry): exposures, successes, failures and the failure rate per
// variant over the last `minutes`, the staged rollout with its guard's last
// verdict, and recent local trips. Null when nothing was reported and no
// staged rollout exists: the console never makes numbers up.
export function guardSection(stats) {
  if (!stats) return null;
  const variants = stats.variants || [];
  const trips = stats.trips || [];
  const plan = stats.plan;
  if (variants.length === 0 && trips.length === 0 && !plan) return null;
  const percent = (rate) => `${(100 * Number(rate)).toFixed(2)}%`;
  const stages = plan && plan.spec && Array.isArray(plan.spec.stages) ? plan.spec.stages : [];
  return section('Guard and telemetry',
    plan ? facts([
      ['Staged rollout', h('span', null, badge(plan.state, plan.state === 'active' ? 'rules' : 'muted'),
        stages.length ? ` stage ${plan.stage + 1} of ${stages.length} (${stages.join('% → ')}%)` : '')],
      ['Started by', plan.created_by],
      ['Guard says', plan.judgement],
    ]) : null,
    variants.length ? table(`Telemetry per variant, last ${stats.minutes} minutes`,
      ['Variant', 'Exposures', 'Successes', 'Failures', 'Failure rate'],
      variants.map((v) => [code(v.variant), String(v.exposures), String(v.successes), String(v.failures),
        percent(v.failure_rate)]), { className: 'telemetry-table' })
      : h('p', { class: 'muted' }, `No SDK reported on this flag in the last ${stats.minutes} minutes.`),
    stats.last_evaluated ? h('p', { class: 'muted' }, 'Last evaluated ',
      h('time', { datetime: stats.last_evaluated, title: timeText(stats.last_evaluated) }, agoText(stats.last_evaluated)), '.') : null,
    trips.length ? h('ul', { class: 'plain trips' }, trips.map((t) => h('li', null,
      `${timeText(t.time)}: ${t.instance} tripped on ${t.variant} (${t.failures} of ${t.outcomes} failed, version ${t.version})`,
      t.detail ? ` — ${t.detail}` : ''))) : null);
}
