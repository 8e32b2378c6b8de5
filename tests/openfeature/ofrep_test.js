// tests/openfeature/ofrep_test.js
//
// hotfixd's OFREP endpoints against the real OpenFeature clients (no mock):
//   - the server SDK (@openfeature/server-sdk) with @openfeature/ofrep-provider,
//   - the web SDK (@openfeature/web-sdk) with @openfeature/ofrep-web-provider
//     (bulk evaluation, ETag polling),
// for a native flag set and a flagd-format one. Every result must equal
// `hotfixctl eval` on the same document and context, mapped as
// docs/openfeature.md says. Also: a flag killed with `hotfixctl kill` is
// DISABLED/off on the next evaluation (server) and after a poll (web);
// hostile bodies get 400s and change nothing; 401/403; 429 + Retry-After.
//
// Run by `./scripts/dev test openfeature` (stage_openfeature), which starts
// hotfixd and passes, in the environment:
//   HOTFIXD_URL, HOTFIXD_LIMITED_URL (a second hotfixd with a tiny rate
//   limit), SDK_KEY, FLAGD_SDK_KEY, LIMITED_SDK_KEY, WRITE_ONLY_TOKEN,
//   ADMIN_TOKEN, HOTFIXCTL, NATIVE_DOC, FLAGD_DOC.
'use strict';
const { execFileSync } = require('child_process');
const assert = require('assert');

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (run ./scripts/dev test openfeature)`);
  return v;
};
const URL_ = env('HOTFIXD_URL');
const LIMITED_URL = env('HOTFIXD_LIMITED_URL');
const SDK_KEY = env('SDK_KEY');
const FLAGD_SDK_KEY = env('FLAGD_SDK_KEY');
const LIMITED_SDK_KEY = env('LIMITED_SDK_KEY');
const WRITE_ONLY_TOKEN = env('WRITE_ONLY_TOKEN');
const ADMIN_TOKEN = env('ADMIN_TOKEN');
const HOTFIXCTL = env('HOTFIXCTL');
const NATIVE_DOC = env('NATIVE_DOC');
const FLAGD_DOC = env('FLAGD_DOC');

let passed = 0;
let failed = 0;
function check(label, fn) {
  try {
    fn();
    ++passed;
  } catch (e) {
    ++failed;
    console.log(`FAIL ${label}: ${e.message}`);
  }
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function hotfixctl(args, envName) {
  return execFileSync(HOTFIXCTL, args, {
    env: { ...process.env, HOTFIX_URL: URL_, HOTFIX_TOKEN: ADMIN_TOKEN, HOTFIX_ENV: envName || 'production' },
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
}

const ctlType = { boolean: 'bool', string: 'string', number: 'number', object: 'json' };
const reasonMap = { STATIC: 'STATIC', TARGET_MATCH: 'TARGETING_MATCH', RULE_MATCH: 'TARGETING_MATCH',
  ROLLOUT: 'SPLIT', DEFAULT: 'DEFAULT', KILLED: 'DISABLED', PREREQUISITE_FAILED: 'PREREQUISITE_FAILED' };
const errorMap = { FLAG_NOT_FOUND: 'FLAG_NOT_FOUND', MISSING_BUCKET_KEY: 'TARGETING_KEY_MISSING',
  GENERAL: 'GENERAL', TYPE_MISMATCH: 'TYPE_MISMATCH' };

// What an OpenFeature client must report, from `hotfixctl eval --json`.
function expected(doc, flag, type, def, ctx) {
  let out;
  try {
    out = hotfixctl(['eval', doc, flag, '--context', JSON.stringify(ctx), '--type', ctlType[type], '--json']);
  } catch (e) {
    out = e.stdout;  // exit 4 for FLAG_NOT_FOUND still prints the JSON
  }
  const r = JSON.parse(out);
  if (r.reason === 'ERROR') {
    return { value: def, variant: undefined, reason: 'ERROR', errorCode: errorMap[r.error], served: false };
  }
  return { value: r.value === null ? def : r.value, variant: r.variant || undefined, reason: reasonMap[r.reason],
    errorCode: undefined, served: r.value !== null };
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function compare(label, got, want) {
  check(label, () => {
    const g = { value: got.value, variant: got.variant, reason: got.reason, errorCode: got.errorCode };
    const w = { value: want.value, variant: want.variant, reason: want.reason, errorCode: want.errorCode };
    assert.ok(same(g, w), `client ${JSON.stringify(g)} != hotfixctl ${JSON.stringify(w)}`);
  });
}

async function rawPost(base, path, body, headers = {}) {
  const res = await fetch(base + path, {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body,
  });
  const text = await res.text();
  let json = null;
  try { json = JSON.parse(text); } catch (e) { /* not JSON */ }
  return { status: res.status, headers: res.headers, text, json };
}

const nativeFlags = Object.keys(require(NATIVE_DOC).flags);
const flagdFlags = Object.keys(require(FLAGD_DOC).flags);
const typeOf = (v) => (typeof v === 'boolean' ? 'boolean' : typeof v === 'number' ? 'number'
  : typeof v === 'string' ? 'string' : 'object');
function naturalType(doc, key) {
  const f = require(doc).flags[key];
  const dv = f.defaultVariant ?? f.default;
  const v = typeof dv === 'string' && f.variants[dv] !== undefined ? f.variants[dv] : Object.values(f.variants)[0];
  return typeOf(v);
}
const defaults = { boolean: false, string: 'code-default', number: -1, object: { code: 'default' } };

const nativeContexts = [
  {}, { targetingKey: 'u1' }, { targetingKey: 'jean' }, { targetingKey: 'u2', country: 'DE' },
  { targetingKey: 'alice' }, { targetingKey: 'bob', email: 'bob@corp.example', app: '2.1.0', plan: 'pro' },
  { targetingKey: 'carol', plan: 'pro', app: '1.9.0' }, { plan: 'pro' }, { targetingKey: 'u3', user: { tier: 'gold' } },
];
const flagdContexts = [
  {}, { targetingKey: 'user-1', email: 'admin@example.com', version: '2.1.0', age: 30, plan: 'pro', country: 'DE' },
  { targetingKey: 'user-2', email: 'x@corp.example', version: 'v1.2.3', age: '17', score: 4, vip: true },
  { targetingKey: 'user-3', email: 'user@example.com', version: '0.4.0', age: 65, plan: 'team', banned: true },
  { targetingKey: 'ballmer', email: 'ballmer@macrosoft.com', user: { tier: 'gold' }, plan: 'free', country: 'US' },
];

async function serverProvider() {
  const { OpenFeature } = require('@openfeature/server-sdk');
  const { OFREPProvider } = require('@openfeature/ofrep-provider');
  const native = new OFREPProvider({ baseUrl: URL_, headers: [['Authorization', `Bearer ${SDK_KEY}`]] });
  const flagd = new OFREPProvider({ baseUrl: URL_, headers: [['X-API-Key', FLAGD_SDK_KEY]] });
  await OpenFeature.setProviderAndWait('native', native);
  await OpenFeature.setProviderAndWait('flagd', flagd);
  const clients = { native: OpenFeature.getClient('native'), flagd: OpenFeature.getClient('flagd') };
  const getters = { boolean: 'getBooleanDetails', string: 'getStringDetails', number: 'getNumberDetails',
    object: 'getObjectDetails' };
  const cases = [];
  for (const ctx of nativeContexts) {
    for (const key of [...nativeFlags, 'no-such-flag']) {
      const type = key === 'no-such-flag' ? 'string' : naturalType(NATIVE_DOC, key);
      cases.push(['native', NATIVE_DOC, key, type, ctx]);
    }
    cases.push(['native', NATIVE_DOC, 'greeting', 'boolean', ctx]);  // TYPE_MISMATCH
    cases.push(['native', NATIVE_DOC, 'limit', 'string', ctx]);
  }
  for (const ctx of flagdContexts) {
    for (const key of flagdFlags) cases.push(['flagd', FLAGD_DOC, key, naturalType(FLAGD_DOC, key), ctx]);
  }
  for (const [which, doc, key, type, ctx] of cases) {
    const def = defaults[type];
    const want = expected(doc, key, type, def, ctx);
    const got = await clients[which][getters[type]](key, def, ctx);
    const label = `server ${which} ${key} (${type}) ${JSON.stringify(ctx)}`;
    if (!want.served && want.reason !== 'ERROR') {
      // ofrep-provider 0.1.3 (the version this registry serves) cannot read
      // OFREP's value-less success (ADR-0006): it reports GENERAL and the
      // code default. Check the wire answer itself.
      compare(label, got, { value: def, variant: undefined, reason: 'ERROR', errorCode: 'GENERAL' });
      const raw = await rawPost(URL_, `/ofrep/v1/evaluate/flags/${key}`, JSON.stringify({ context: ctx }),
        { 'X-API-Key': which === 'native' ? SDK_KEY : FLAGD_SDK_KEY });
      check(`${label} wire`, () => {
        assert.strictEqual(raw.status, 200);
        assert.strictEqual(raw.json.reason, want.reason);
        assert.ok(!('value' in raw.json), 'a value-less answer carries no value');
      });
      continue;
    }
    compare(label, got, want);
  }
  // Metadata (owner, ticket, tags, version) reach the client.
  const meta = await clients.native.getBooleanDetails('static-bool', false, {});
  check('server metadata', () => {
    assert.strictEqual(meta.flagMetadata.owner, 'payments-oncall');
    assert.strictEqual(meta.flagMetadata.ticket, 'PAY-1');
    assert.strictEqual(meta.flagMetadata.tags, 'payments,hotfix');
    assert.strictEqual(typeof meta.flagMetadata.version, 'number');
  });
  const flagdMeta = await clients.flagd.getBooleanDetails('static-bool', false, {});
  check('server flagd metadata', () => {
    assert.strictEqual(flagdMeta.flagMetadata.team, 'flag');
    assert.strictEqual(flagdMeta.flagMetadata.flagSetId, 'corpus');
  });
  // Kill with hotfixctl: the very next evaluation is DISABLED / off.
  const before = await clients.native.getBooleanDetails('killable', false, { targetingKey: 'k' });
  check('server before kill', () => assert.ok(before.value === true && before.reason === 'STATIC'));
  hotfixctl(['kill', 'killable', '--reason', 'openfeature stage']);
  const after = await clients.native.getBooleanDetails('killable', true, { targetingKey: 'k' });
  check('server sees the kill at once', () => {
    assert.strictEqual(after.value, false);
    assert.strictEqual(after.variant, 'off');
    assert.strictEqual(after.reason, 'DISABLED');
  });
  const prereq = await clients.native.getBooleanDetails('needs-static', true, { targetingKey: 'k' });
  check('server prerequisite of a killed flag', () => {
    assert.strictEqual(prereq.value, false);
    assert.strictEqual(prereq.reason, 'PREREQUISITE_FAILED');
  });
  hotfixctl(['revive', 'killable', '--reason', 'openfeature stage']);
  const revived = await clients.native.getBooleanDetails('killable', false, { targetingKey: 'k' });
  check('server sees the revive', () => assert.strictEqual(revived.value, true));
  await OpenFeature.close();
  return cases.length;
}

// The web provider's cases with what hotfixctl says for each, computed before
// any client connects: each hotfixctl call blocks the event loop, and a
// keep-alive connection left idle that long has been closed by the server
// when the client next uses it ("other side closed": a fetch error, not an
// answer to compare).
function webSections() {
  const sections = [
    { which: 'native', doc: NATIVE_DOC, key: SDK_KEY, flags: nativeFlags, contexts: nativeContexts.slice(5, 7) },
    { which: 'flagd', doc: FLAGD_DOC, key: FLAGD_SDK_KEY, flags: flagdFlags, contexts: flagdContexts.slice(1, 3) },
  ];
  for (const section of sections) {
    const { doc, flags, contexts } = section;
    section.wants = new Map();
    for (const ctx of contexts) {
      const effective = ctx === contexts[0] ? ctx : { ...ctx, targetingKey: contexts[0].targetingKey };
      for (const flag of flags) {
        const type = naturalType(doc, flag);
        section.wants.set(`${contexts.indexOf(ctx)} ${flag}`, expected(doc, flag, type, defaults[type], effective));
      }
    }
  }
  return sections;
}

async function webProvider(sections) {
  const { OpenFeature, ProviderEvents } = require('@openfeature/web-sdk');
  const { OFREPWebProvider } = require('@openfeature/ofrep-web-provider');
  const getters = { boolean: 'getBooleanDetails', string: 'getStringDetails', number: 'getNumberDetails',
    object: 'getObjectDetails' };
  let evaluations = 0;
  for (const { which, doc, key, flags, contexts, wants } of sections) {
    const provider = new OFREPWebProvider({ baseUrl: URL_, pollInterval: 200, cacheMode: 'disabled',
      headers: [['Authorization', `Bearer ${key}`]] });
    await OpenFeature.setContext(which, contexts[0]);
    await OpenFeature.setProviderAndWait(which, provider);
    const client = OpenFeature.getClient(which);
    for (const ctx of contexts) {
      if (ctx !== contexts[0]) {
        // Same targetingKey, other attributes: the provider keeps its ETag;
        // hotfixd's ETag hashes the answer, so this is not a 304. The
        // provider has the new context's answers once it says so.
        const applied = new Promise((resolve) => {
          const handler = () => {
            client.removeHandler(ProviderEvents.ContextChanged, handler);
            resolve('applied');
          };
          client.addHandler(ProviderEvents.ContextChanged, handler);
        });
        await OpenFeature.setContext(which, { ...ctx, targetingKey: contexts[0].targetingKey });
        const outcome = await Promise.race([applied, sleep(10000).then(() => 'timeout')]);
        check(`web ${which} applies a context change`, () => assert.strictEqual(outcome, 'applied'));
      }
      const effective = ctx === contexts[0] ? ctx : { ...ctx, targetingKey: contexts[0].targetingKey };
      for (const flag of flags) {
        const type = naturalType(doc, flag);
        const def = defaults[type];
        const want = wants.get(`${contexts.indexOf(ctx)} ${flag}`);
        compare(`web ${which} ${flag} ${JSON.stringify(effective)}`, client[getters[type]](flag, def), want);
        ++evaluations;
      }
    }
    // A kill reaches the web client after its polling interval.
    const target = which === 'native' ? 'killable' : 'static-bool';
    const changed = new Promise((resolve) => {
      const handler = (d) => {
        if (d && d.flagsChanged && d.flagsChanged.includes(target)) {
          client.removeHandler(ProviderEvents.ConfigurationChanged, handler);
          resolve();
        }
      };
      client.addHandler(ProviderEvents.ConfigurationChanged, handler);
    });
    hotfixctl(['kill', target, '--reason', 'openfeature stage'], which === 'native' ? 'production' : 'flagd');
    const deadline = sleep(5000).then(() => 'timeout');
    const outcome = await Promise.race([changed, deadline]);
    const d = client.getBooleanDetails(target, true);
    check(`web ${which} sees the kill after polling`, () => {
      assert.notStrictEqual(outcome, 'timeout', 'no configuration change within 5 s');
      assert.strictEqual(d.reason, 'DISABLED');
      // native: the off variant; flagd: no value, so the code default
      assert.strictEqual(d.value, which === 'native' ? false : true);
    });
    hotfixctl(['revive', target, '--reason', 'openfeature stage'], which === 'native' ? 'production' : 'flagd');
    await OpenFeature.clearProviders();
  }
  return evaluations;
}

async function wire() {
  const auth = { 'X-API-Key': SDK_KEY };
  // Bulk: ETag, 304 on If-None-Match, a new ETag for another context.
  const a = await rawPost(URL_, '/ofrep/v1/evaluate/flags', JSON.stringify({ context: { targetingKey: 'u1' } }), auth);
  const etag = a.headers.get('etag');
  const b = await rawPost(URL_, '/ofrep/v1/evaluate/flags', JSON.stringify({ context: { targetingKey: 'u1' } }),
    { ...auth, 'If-None-Match': etag });
  const c = await rawPost(URL_, '/ofrep/v1/evaluate/flags',
    JSON.stringify({ context: { targetingKey: 'u1', country: 'DE' } }), { ...auth, 'If-None-Match': etag });
  check('bulk ETag and 304', () => {
    assert.strictEqual(a.status, 200);
    assert.ok(etag && etag.startsWith('"'));
    assert.match(a.headers.get('content-type'), /application\/json/);
    assert.ok(Array.isArray(a.json.flags));
    assert.strictEqual(b.status, 304);
    assert.strictEqual(b.text, '');
    assert.strictEqual(c.status, 200, 'another context is another answer');
    assert.notStrictEqual(c.headers.get('etag'), etag);
  });
  // Auth.
  const none = await rawPost(URL_, '/ofrep/v1/evaluate/flags/static-bool', '{"context":{}}');
  const wrong = await rawPost(URL_, '/ofrep/v1/evaluate/flags/static-bool', '{"context":{}}',
    { 'X-API-Key': 'not-a-key-at-all-0000' });
  const scope = await rawPost(URL_, '/ofrep/v1/evaluate/flags/static-bool', '{"context":{}}',
    { Authorization: `Bearer ${WRITE_ONLY_TOKEN}` });
  const xapiElsewhere = await fetch(`${URL_}/v1/flags`, { headers: { 'X-API-Key': SDK_KEY } });
  check('401 / 403', () => {
    assert.strictEqual(none.status, 401);
    assert.strictEqual(wrong.status, 401);
    assert.strictEqual(scope.status, 403);
    assert.strictEqual(xapiElsewhere.status, 401, 'X-API-Key is for the OFREP routes only');
  });
  // Hostile bodies: 400 INVALID_CONTEXT, nothing else affected.
  const deep = '{"context":{"a":' + '['.repeat(5000) + ']'.repeat(5000) + '}}';
  const hostile = [
    ['not JSON', 'this is not json'],
    ['context not an object', '{"context":[1,2,3]}'],
    ['context a string', '{"context":"u1"}'],
    ['body an array', '[{"context":{}}]'],
    ['10 MB', '{"context":{"targetingKey":"' + 'x'.repeat(10 * 1024 * 1024) + '"}}'],
    ['deep nesting', deep],
    ['array attribute', '{"context":{"targetingKey":"u1","roles":["a"]}}'],
    ['numeric targetingKey', '{"context":{"targetingKey":42}}'],
  ];
  for (const [label, body] of hostile) {
    const single = await rawPost(URL_, '/ofrep/v1/evaluate/flags/static-bool', body, auth);
    const bulk = await rawPost(URL_, '/ofrep/v1/evaluate/flags', body, auth);
    check(`hostile body: ${label}`, () => {
      assert.strictEqual(single.status, 400);
      assert.strictEqual(single.json.errorCode, 'INVALID_CONTEXT');
      assert.strictEqual(single.json.key, 'static-bool');
      assert.strictEqual(bulk.status, 400);
      assert.strictEqual(bulk.json.errorCode, 'INVALID_CONTEXT');
    });
  }
  const ok = await rawPost(URL_, '/ofrep/v1/evaluate/flags/static-bool', '{"context":{}}', auth);
  const health = await fetch(`${URL_}/healthz`);
  check('still serving after hostile bodies', () => {
    assert.strictEqual(ok.status, 200);
    assert.strictEqual(ok.json.value, true);
    assert.strictEqual(health.status, 200);
  });
  // 404 body, 400 TARGETING_KEY_MISSING body.
  const nf = await rawPost(URL_, '/ofrep/v1/evaluate/flags/no-such-flag', '{"context":{}}', auth);
  const tk = await rawPost(URL_, '/ofrep/v1/evaluate/flags/split', '{"context":{}}', auth);
  check('error bodies', () => {
    assert.strictEqual(nf.status, 404);
    assert.deepStrictEqual([nf.json.key, nf.json.errorCode], ['no-such-flag', 'FLAG_NOT_FOUND']);
    assert.strictEqual(tk.status, 400);
    assert.deepStrictEqual([tk.json.key, tk.json.errorCode], ['split', 'TARGETING_KEY_MISSING']);
  });
  // 429 + Retry-After from the rate-limited server, honoured by the client.
  const limited = { 'X-API-Key': LIMITED_SDK_KEY };
  let got429 = null;
  for (let i = 0; i < 10 && !got429; ++i) {
    const r = await rawPost(LIMITED_URL, '/ofrep/v1/evaluate/flags/static-bool', '{"context":{}}', limited);
    if (r.status === 429) got429 = r;
  }
  check('429 with Retry-After', () => {
    assert.ok(got429, 'no 429 within 10 requests at 1/s, burst 3');
    assert.ok(parseInt(got429.headers.get('retry-after'), 10) >= 1);
  });
  const { OpenFeature } = require('@openfeature/server-sdk');
  const { OFREPProvider } = require('@openfeature/ofrep-provider');
  await OpenFeature.setProviderAndWait('limited', new OFREPProvider({ baseUrl: LIMITED_URL,
    headers: [['X-API-Key', LIMITED_SDK_KEY]] }));
  const lc = OpenFeature.getClient('limited');
  const throttled = await lc.getBooleanDetails('static-bool', false, {});
  check('client sees the rate limit as an error with the default', () => {
    assert.strictEqual(throttled.reason, 'ERROR');
    assert.strictEqual(throttled.value, false);
  });
  await OpenFeature.close();
}

(async () => {
  const started = Date.now();
  const sections = webSections();
  const n = await serverProvider();
  const w = await webProvider(sections);
  await wire();
  console.log(`ofrep_test: ${n} server-provider and ${w} web-provider evaluations compared with hotfixctl eval ` +
    `in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 ? 0 : 1);
})().catch((e) => {
  console.error('ofrep_test: FATAL', e);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
