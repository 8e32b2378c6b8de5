// describe.mjs — a flag in plain words (docs/flag-format.md): what it serves
// and to whom, its rules and clauses as sentences, and its rollout
// percentage. Pure functions of the flag's JSON, returning strings; the
// views put them on the page as text.

// A variant's value as JSON text: true, "blue", 3, {"max":2}.
export function valueText(value) {
  return JSON.stringify(value);
}

// "on (true)", or just the name when the flag lacks it.
export function variantText(flag, name) {
  const variants = flag.variants || {};
  return Object.hasOwn(variants, name) ? `${name} (${valueText(variants[name])})` : name;
}

function serveVariant(serve) {
  if (typeof serve === 'string') return serve;
  if (serve && typeof serve.variant === 'string') return serve.variant;
  return null;
}

function splitOf(serve) {
  return serve && serve.rollout && Array.isArray(serve.rollout.split) ? serve.rollout : null;
}

function percent(weight) {
  return `${Number(weight)}%`;
}

// serveText()
//
// "on (true)" for a fixed variant; "on (true) to 25%, off (false) to 75%,
// by key" for a split ("by tenant" when it buckets by another attribute).
export function serveText(flag, serve) {
  const fixed = serveVariant(serve);
  if (fixed !== null) return variantText(flag, fixed);
  const rollout = splitOf(serve);
  if (!rollout) return 'nothing it can name';
  const parts = rollout.split.map((e) => `${variantText(flag, e.variant)} to ${percent(e.weight)}`);
  return `${parts.join(', ')}, by ${rollout.bucket_by || 'key'}`;
}

const OPERATORS = {
  eq: ['is', 'is not'],
  in: ['is', 'is not'],
  not_in: ['is not', 'is'],
  starts_with: ['starts with', 'does not start with'],
  ends_with: ['ends with', 'does not end with'],
  contains: ['contains', 'does not contain'],
  matches: ['matches', 'does not match'],
  lt: ['is less than', 'is not less than'],
  lte: ['is at most', 'is not at most'],
  gt: ['is greater than', 'is not greater than'],
  gte: ['is at least', 'is not at least'],
  semver_eq: ['is version', 'is not version'],
  semver_lt: ['is a version below', 'is not a version below'],
  semver_lte: ['is a version at most', 'is not a version at most'],
  semver_gt: ['is a version above', 'is not a version above'],
  semver_gte: ['is a version at least', 'is not a version at least'],
  before: ['is before', 'is not before'],
  after: ['is after', 'is not after'],
};

function listText(values) {
  const shown = values.map((v) => (typeof v === 'string' ? v : valueText(v)));
  if (shown.length <= 1) return shown.join('');
  return `one of ${shown.join(', ')}`;
}

// clauseText()
//
// One condition as a phrase: "region is one of eu, uk", "app_version is a
// version at least 4.2.0", "the time is after 2026-12-24T00:00:00Z", "in segment
// beta-testers", "email does not end with @example.com". An operator this
// console does not know is named as it is.
export function clauseText(clause) {
  const values = Array.isArray(clause.values) ? clause.values
    : Object.hasOwn(clause, 'value') ? [clause.value] : [];
  const negate = clause.negate === true;
  if (clause.op === 'segment') {
    const segments = values.length === 1 ? `segment ${values[0]}` : `one of the segments ${values.join(', ')}`;
    return `${negate ? 'not in' : 'in'} ${segments}`;
  }
  const subject = clause.attribute === undefined ? 'the time' : clause.attribute;
  const words = OPERATORS[clause.op];
  if (!words) return `${subject} ${clause.op}${negate ? ' (negated)' : ''} ${listText(values)}`;
  return `${subject} ${words[negate ? 1 : 0]} ${listText(values)}`;
}

// "If region is one of eu, uk and plan is pro: serve on (true)".
export function ruleText(flag, rule) {
  const conditions = (rule.if || []).map(clauseText);
  const when = conditions.length === 0 ? 'Always' : `If ${conditions.join(' and ')}`;
  return `${when}: serve ${serveText(flag, rule.serve)}`;
}

export function isKilled(flag) {
  return flag.killed === true || flag.enabled === false;
}

function isStatic(flag) {
  return !(flag.rules && flag.rules.length) && !(flag.targets && flag.targets.length) &&
    !(flag.prerequisites && flag.prerequisites.length);
}

// stateText()
//
// The flag's state in one sentence: "Killed: everyone gets off (false).",
// "Live: everyone gets on (true).", "Rolling out: on (true) to 25%, off
// (false) to 75%, by key.", "Live: 1 target list and 2 rules decide first;
// everyone else gets off (false)."
export function stateText(flag) {
  if (isKilled(flag)) {
    return flag.off_variant
      ? `Killed: everyone gets ${variantText(flag, flag.off_variant)}.`
      : 'Killed: every caller gets its own default (the flag has no off variant).';
  }
  const fallthrough = serveText(flag, flag.default);
  const rolling = splitOf(flag.default) !== null;
  if (isStatic(flag)) {
    return rolling ? `Rolling out: ${fallthrough}.` : `Live: everyone gets ${fallthrough}.`;
  }
  const deciders = [];
  const count = (n, one, many) => `${n} ${n === 1 ? one : many}`;
  if (flag.prerequisites && flag.prerequisites.length) deciders.push(count(flag.prerequisites.length, 'prerequisite', 'prerequisites'));
  if (flag.targets && flag.targets.length) deciders.push(count(flag.targets.length, 'target list', 'target lists'));
  if (flag.rules && flag.rules.length) deciders.push(count(flag.rules.length, 'rule', 'rules'));
  const first = deciders.length > 1
    ? `${deciders.slice(0, -1).join(', ')} and ${deciders[deciders.length - 1]}`
    : deciders[0];
  // "1 rule decides", "2 rules decide", "1 target list and 1 rule decide".
  const one = deciders.length === 1 && /^1 /.test(first);
  return `Live: ${first} ${one ? 'decides' : 'decide'} first; everyone else gets ${fallthrough}.`;
}

// rollout()
//
// What the rollout control can do for this flag, following POST .../rollout
// (docs/admin-api.md): {percent, variant, editable, why}. percent is the
// share of the first split entry (the one the API sets), or 100 / 0 for a
// boolean flag serving true / false to everyone; null when neither applies.
export function rollout(flag) {
  const split = splitOf(flag.default);
  if (split) {
    if (split.split.length === 2) {
      return { percent: Number(split.split[0].weight), variant: split.split[0].variant, editable: true, why: '' };
    }
    return { percent: null, variant: null, editable: false, why: 'The fallthrough splits more than two ways; edit the flag to change it.' };
  }
  const entries = Object.entries(flag.variants || {});
  const on = entries.filter(([, v]) => v === true);
  const off = entries.filter(([, v]) => v === false);
  if (entries.length === 2 && on.length === 1 && off.length === 1) {
    const serving = serveVariant(flag.default);
    return { percent: serving === on[0][0] ? 100 : 0, variant: on[0][0], editable: true, why: '' };
  }
  return { percent: null, variant: null, editable: false, why: 'Only a boolean flag, or a two-way split, has a rollout percentage; edit the flag to change what it serves.' };
}

// The one-word state for lists: {label, tone} with tone danger, ok, off,
// rollout or rules.
export function stateBadge(flag) {
  if (isKilled(flag)) return { label: 'Killed', tone: 'danger' };
  if (!isStatic(flag)) return { label: 'Rules', tone: 'rules' };
  const r = rollout(flag);
  if (splitOf(flag.default)) return { label: 'Rolling out', tone: 'rollout' };
  if (r.editable) return r.percent === 100 ? { label: 'On', tone: 'ok' } : { label: 'Off', tone: 'off' };
  return { label: `Serves ${serveVariant(flag.default)}`, tone: 'ok' };
}
