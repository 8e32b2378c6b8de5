// bench/peers/flagd_core_bench.js
//
// @openfeature/flagd-core 4.0.1 (the reference flagd evaluator, what flagd's
// JavaScript providers run in-process) on bench/peers/flagd_flags.json: ns
// per resolveBooleanEvaluation for each case, over the same 1024 contexts
// the hotfix benchmarks use. Prints one JSON object. Needs the packages of
// tests/openfeature (npm ci there).
'use strict';
const path = require('path');
const fs = require('fs');
const { FlagdCore } = require(path.join(__dirname, '../../tests/openfeature/node_modules/@openfeature/flagd-core'));

const iterations = parseInt(process.argv[2] || '300000', 10);
const repetitions = parseInt(process.argv[3] || '5', 10);
const only = process.argv[4];  // one case (instruction counting)
const silent = { error() {}, warn() {}, info() {}, debug() {} };
const core = new FlagdCore(undefined, silent);
core.setConfigurations(fs.readFileSync(path.join(__dirname, 'flagd_flags.json'), 'utf8'));

// The contexts: see contexts() in flagd_peer_benchmark.cc.
const contexts = [];
for (let i = 0; i < 1024; ++i) {
  contexts.push({
    targetingKey: `user-${i}`,
    email: i % 3 === 0 ? `u${i}@example.com` : `u${i}@other.org`,
    version: `${i % 4}.${i % 7}.${i % 5}`,
  });
}
const cases = only ? [only] : ['static-bool', 'ends-with-semver', 'fractional-10'];
const out = { peer: '@openfeature/flagd-core@4.0.1', node: process.version, iterations, cases: {} };
let sink = 0;
for (const flag of cases) {
  // Warm up the JIT.
  for (let i = 0; i < 50000; ++i) sink += core.resolveBooleanEvaluation(flag, false, contexts[i & 1023], silent).value ? 1 : 0;
  let best = Infinity;
  for (let r = 0; r < repetitions; ++r) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; ++i) {
      sink += core.resolveBooleanEvaluation(flag, false, contexts[i & 1023], silent).value ? 1 : 0;
    }
    const ns = Number(process.hrtime.bigint() - start) / iterations;
    best = Math.min(best, ns);
  }
  out.cases[flag] = best;
}
out.sink = sink;
console.log(JSON.stringify(out));
