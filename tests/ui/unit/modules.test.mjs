// tests/ui/unit/modules.test.mjs — the console's pure modules under Node,
// without a browser: SSE parsing (pieces split anywhere, CR/LF/CRLF, BOM,
// comments), locating errors in JSON text, a flag in words, and routes.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SseParser } from '../../../tools/hotfixd/console/sse.mjs';
import { compilerPath, find, parse, position } from '../../../tools/hotfixd/console/locate.mjs';
import { clauseText, rollout, ruleText, stateBadge, stateText } from '../../../tools/hotfixd/console/describe.mjs';
import { href, parse as parseRoute } from '../../../tools/hotfixd/console/router.mjs';

function events(pieces) {
  const out = [];
  const parser = new SseParser((e) => out.push(e));
  for (const p of pieces) parser.feed(p);
  return out;
}

test('SSE: events split at every position parse the same', () => {
  const stream = '\ufeffevent: put\r\nid: 4\r\ndata: {"version":4}\r\n\r\n: comment\n\nevent: patch\rdata: a\rdata: b\r\r';
  const whole = events([stream]);
  assert.deepEqual(whole, [
    { type: 'put', id: '4', data: '{"version":4}' },
    { type: 'patch', id: '', data: 'a\nb' },
  ]);
  for (let i = 1; i < stream.length; i += 1) {
    assert.deepEqual(events([stream.slice(0, i), stream.slice(i)]), whole, `split at ${i}`);
  }
});

test('SSE: an event without data, or cut off, is not dispatched', () => {
  assert.deepEqual(events(['event: heartbeat\n\n', 'event: put\ndata: {"version":1}']), []);
});

test('locate: syntax errors have an offset', () => {
  const r = parse('{\n  "a": 1,\n  "b": tru\n}');
  assert.equal(r.ok, false);
  assert.deepEqual([position('{\n  "a": 1,\n  "b": tru\n}', r.offset).line], [3]);
  assert.equal(parse('{"a":1,"a":2}').ok, false);  // duplicate member
  assert.equal(parse('[1,]').ok, false);
  assert.equal(parse('{"a": [1, {"b": null}]}').ok, true);
});

test('locate: a compiler path finds the member, dots in names included', () => {
  const text = '{"variants": {"v.1": true}, "rules": [{"if": [{"op": "betwen"}]}]}';
  const { root } = parse(text);
  const op = find(root, '.rules[0].if[0].op');
  assert.equal(text.slice(op.start, op.end), '"betwen"');
  assert.equal(text.slice(op.keyStart, op.keyStart + 4), '"op"');
  const v = find(root, '.variants.v.1');
  assert.equal(text.slice(v.start, v.end), 'true');
  // A missing member is shown at the object that lacks it.
  const missing = find(root, '.rules[0].serve');
  assert.equal(text.slice(missing.start, missing.start + 7), '{"if": ');
  assert.deepEqual(compilerPath('flags.a.b.rules[0].if[0].op: unknown operator "betwen"', 'a.b'),
    { path: '.rules[0].if[0].op', text: 'unknown operator "betwen"' });
  assert.deepEqual(compilerPath('flags.other.default: x', 'a'), { path: null, text: 'flags.other.default: x' });
  assert.deepEqual(compilerPath('flags.a: no variants', 'a'), { path: '', text: 'no variants' });
});

test('describe: states, rules and clauses in words', () => {
  const fix = {
    variants: { on: true, off: false }, off_variant: 'off',
    default: { rollout: { split: [{ variant: 'on', weight: 25 }, { variant: 'off', weight: 75 }] } },
  };
  assert.equal(stateText(fix), 'Rolling out: on (true) to 25%, off (false) to 75%, by key.');
  assert.equal(stateText({ ...fix, killed: true }), 'Killed: everyone gets off (false).');
  const rule = { if: [{ attribute: 'region', op: 'eq', value: 'eu' }], serve: 'on' };
  assert.match(stateText({ ...fix, rules: [rule] }), /^Live: 1 rule decides first; everyone else gets on/);
  assert.match(stateText({ ...fix, rules: [rule, rule] }), /^Live: 2 rules decide first;/);
  assert.match(stateText({ ...fix, rules: [rule], targets: [{ variant: 'on', keys: ['a'] }] }),
    /^Live: 1 target list and 1 rule decide first;/);
  assert.deepEqual(rollout(fix), { percent: 25, variant: 'on', editable: true, why: '' });
  assert.deepEqual(rollout({ variants: { on: true, off: false }, default: 'on' }).percent, 100);
  assert.equal(rollout({ variants: { a: 'x', b: 'y' }, default: 'a' }).editable, false);
  assert.equal(stateBadge({ ...fix, enabled: false }).label, 'Killed');
  assert.equal(clauseText({ attribute: 'region', op: 'in', values: ['eu', 'uk'] }), 'region is one of eu, uk');
  assert.equal(clauseText({ attribute: 'email', op: 'ends_with', value: '@x.com', negate: true }), 'email does not end with @x.com');
  assert.equal(clauseText({ op: 'after', value: '2026-01-01T00:00:00Z' }), 'the time is after 2026-01-01T00:00:00Z');
  assert.equal(clauseText({ op: 'segment', values: ['beta'] }), 'in segment beta');
  assert.equal(clauseText({ attribute: 'n', op: 'betwen', values: [1] }), 'n betwen 1');
  assert.equal(ruleText(fix, { if: [], serve: 'on' }), 'Always: serve on (true)');
});

test('routes: parse and href agree, odd names included', () => {
  for (const [name, params, query] of [
    ['flags', { env: 'production' }, { tag: 'payments', killed: '1' }],
    ['flag', { env: 'qa.1', key: 'a/b?c' }, {}],
    ['history', { env: 'production' }, { from: '4', to: '7' }],
  ]) {
    const r = parseRoute(href(name, params, query));
    assert.equal(r.name, name);
    assert.equal(r.env, params.env);
    assert.equal(r.key, params.key);
    assert.deepEqual(Object.fromEntries(r.query), query);
  }
  assert.equal(parseRoute('#token=abc').name, null);
  assert.equal(parseRoute('#/env/x/nope').name, null);
});
