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
// Guard settings and the fleet's numbers per variant (exposures, failures,
// failure rate), shown only when the server offers them: a `guard` in the
// flag's definition, or `telemetry` in its metadata (guarded rollouts). Until
// then nothing is shown; the console never makes numbers up.
export function guardSection(flag, meta) {
  const guard = flag.guard || meta.guard;
  const telemetry = meta.telemetry;
  if (!guard && !telemetry) return null;
  const variants = telemetry && Array.isArray(telemetry.variants) ? telemetry.variants : [];
  const columns = [...new Set(variants.flatMap((v) => Object.keys(v)).filter((k) => k !== 'variant'))];
  return section('Guard and telemetry',
    guard ? facts(Object.entries(guard).map(([k, v]) => [k, code(valueText(v))])) : null,
    variants.length ? table('Telemetry per variant', ['Variant', ...columns],
      variants.map((v) => [code(String(v.variant)), ...columns.map((c) => (v[c] === undefined ? '—' : String(v[c])))])) : null);
}
