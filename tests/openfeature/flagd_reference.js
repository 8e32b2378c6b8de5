// tests/openfeature/flagd_reference.js
//
// The reference side of hotfix's differential test against flagd: evaluates
// every flag of tests/data/flagd/{corpus,testkit-flags}.json with
// @openfeature/flagd-core (the reference evaluator) for N generated
// contexts and writes the cases and flagd-core's results as JSON. The C++
// side (tests/flagd_test.cc, FlagdDifferentialTest) compiles the same
// definitions with hotfix and requires the identical value, variant, reason
// and error code for every case.
//
//   node flagd_reference.js --contexts 10000 --seed 1 --out FILE
//
// Each flag is compiled as its own document (with the file's $evaluators and
// metadata), so a flag hotfix rejects at compile time is checked against
// flagd's answer for it: it must be PARSE_ERROR for every context.
// Date.now is fixed (--now-ms) so $flagd.timestamp agrees.
'use strict';
const fs = require('fs');
const path = require('path');
const { FlagdCore } = require('@openfeature/flagd-core');

function arg(name, fallback) {
  const i = process.argv.indexOf('--' + name);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const contextsWanted = parseInt(arg('contexts', '10000'), 10);
const seed = parseInt(arg('seed', '1'), 10);
const out = arg('out', null);
const nowMs = parseInt(arg('now-ms', '1767225600000'), 10);  // 2026-01-01
Date.now = () => nowMs;

// xorshift32: deterministic contexts for a given seed.
let state = seed >>> 0 || 1;
function rnd() {
  state ^= state << 13; state >>>= 0;
  state ^= state >>> 17;
  state ^= state << 5; state >>>= 0;
  return state / 4294967296;
}
function pick(list) { return list[Math.floor(rnd() * list.length)]; }
function maybe(p) { return rnd() < p; }

const emails = ['admin@example.com', 'user@example.com', 'x@corp.example', 'ballmer@macrosoft.com',
  'user@xample.com', 'a@b.c', '', 'ADMIN@EXAMPLE.COM', 'administrator@corp.example', 'foo@bar.com'];
const versions = ['1.2.3', '1.2.9', '1.9.0', '0.4.0', '0.9.0', '2.0.0', '2.1.0', 'v2.1.0', 'V3.0.0', '3.0.0-rc.1',
  '5.0.0-rc.2', '5.0.0', '1.0.0+build.5', ' 1.2.3 ', '2', '2.1', '01.2.3', 'not-a-version', '', '1.2.3.4', 'vv1.0.0'];
const plans = ['pro', 'free', 'team', 'enterprise', 'x', 'abc', '30', '', 'PRO', 'DE', 'pro-team'];
const countries = ['DE', 'FR', 'US', 'GB', 'de', 'pro', 'team', ''];
const ops = ['=', '!=', '<', '<=', '>', '>=', '^', '~', '===', 'x'];

function numberish() {
  return pick([0, 1, 17, 18, 21, 30, 40, 65, 99, -5, 2.5, 1e21, 0.000001, '30', '17', '1e2', ' 42 ', '0x1A',
    'abc', '', true, false, 3]);
}

function makeContext(i) {
  const ctx = {};
  if (maybe(0.85)) ctx.targetingKey = maybe(0.05) ? '' : 'user-' + Math.floor(rnd() * 100000);
  if (maybe(0.8)) ctx.email = maybe(0.1) ? Math.floor(rnd() * 100) : pick(emails);
  if (maybe(0.8)) ctx.age = numberish();
  if (maybe(0.6)) ctx.score = numberish();
  if (maybe(0.7)) ctx.version = maybe(0.1) ? pick([1, 2.5, 1.1, 3]) : pick(versions);
  if (maybe(0.7)) ctx.plan = pick(plans);
  if (maybe(0.6)) ctx.country = maybe(0.05) ? 1 : pick(countries);
  if (maybe(0.3)) ctx.region = pick(['DE', 'US', 'eu']);
  if (maybe(0.4)) ctx.vip = maybe(0.8) ? maybe(0.5) : pick(['yes', '', 0, 1]);
  if (maybe(0.3)) ctx.banned = maybe(0.5);
  if (maybe(0.2)) ctx.op = pick(ops);
  if (maybe(0.3)) ctx.user = { tier: pick(['gold', 'silver', 'bronze', '']) };
  if (maybe(0.05)) ctx['$flagd'] = { flagKey: 'spoofed', timestamp: 1 };
  return ctx;
}

function typeOf(flag) {
  const values = Object.values(flag.variants || {});
  const v = flag.defaultVariant != null && flag.variants && flag.variants[flag.defaultVariant] !== undefined
    ? flag.variants[flag.defaultVariant] : values[0];
  if (typeof v === 'boolean') return 'boolean';
  if (typeof v === 'number') return 'number';
  if (typeof v === 'string') return 'string';
  return 'object';
}
const defaults = { boolean: false, string: 'code-default', number: -99, object: { code: 'default' } };
const resolvers = { boolean: 'resolveBooleanEvaluation', string: 'resolveStringEvaluation',
  number: 'resolveNumberEvaluation', object: 'resolveObjectEvaluation' };

const dataDir = path.join(__dirname, '..', 'data', 'flagd');
const documents = [];
for (const file of ['corpus.json', 'testkit-flags.json']) {
  const set = JSON.parse(fs.readFileSync(path.join(dataDir, file), 'utf8'));
  for (const [key, flag] of Object.entries(set.flags)) {
    const doc = { $schema: 'https://flagd.dev/schema/v0/flags.json' };
    if (set.$evaluators) doc.$evaluators = set.$evaluators;
    if (set.metadata) doc.metadata = set.metadata;
    doc.flags = { [key]: flag };
    const type = typeOf(flag);
    documents.push({ name: file + ':' + key, flag: key, type, default: defaults[type], json: JSON.stringify(doc) });
    // The same flag asked for with another type (TYPE_MISMATCH paths).
    const other = type === 'string' ? 'boolean' : 'string';
    documents.push({ name: file + ':' + key + ':' + other, flag: key, type: other, default: defaults[other],
      json: JSON.stringify(doc) });
  }
}
// One unknown flag (FLAG_NOT_FOUND).
documents.push({ name: 'missing', flag: 'no-such-flag', type: 'string', default: 'code-default',
  json: JSON.stringify({ $schema: 'https://flagd.dev/schema/v0/flags.json', metadata: { flagSetId: 's' }, flags: {} }) });

const contexts = [];
for (let i = 0; i < contextsWanted; ++i) contexts.push(makeContext(i));

const silent = { error() {}, warn() {}, info() {}, debug() {} };
const results = [];
for (const d of documents) {
  const core = new FlagdCore(undefined, silent);
  core.setConfigurations(d.json);
  const rows = [];
  for (const ctx of contexts) {
    const r = core[resolvers[d.type]](d.flag, d.default, ctx, silent);
    rows.push([r.value === undefined ? null : r.value, r.variant === undefined ? null : r.variant, r.reason,
      r.errorCode === undefined ? null : r.errorCode]);
  }
  results.push(rows);
}
const body = JSON.stringify({ generatedWith: '@openfeature/flagd-core@4.0.1', seed, nowMs, documents, contexts, results });
if (out) fs.writeFileSync(out, body); else process.stdout.write(body);
process.stderr.write(`flagd_reference: ${documents.length} flag documents x ${contexts.length} contexts = ` +
  `${documents.length * contexts.length} evaluations\n`);
