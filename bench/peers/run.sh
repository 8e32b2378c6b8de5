#!/usr/bin/env bash
# bench/peers/run.sh — hotfix beside @openfeature/flagd-core on the same flagd
# definitions (bench/peers/flagd_flags.json: a static boolean, a targeting
# rule with ends_with + sem_ver, a 10 % fractional), on this machine, in one
# run: hotfix's C++ Client::Enabled, hotfix's Python module, and flagd-core
# 4.0.1 on Node. Prints ns per evaluation and flagd-core's time over
# hotfix's (the target is >= 10x on every case). docs/benchmarks.md records
# the figures.
#
#   bench/peers/run.sh [--instructions] [build dir (default build/release)]
#
# Times are the best of 3 interleaved rounds (each the best of 5
# repetitions), so a burst of load on a shared machine hurts both sides
# alike. --instructions also counts instructions per evaluation with
# callgrind (the difference between two run lengths, so start-up and JIT
# warm-up cancel out; Node's JIT code under valgrind is only indicative).
#
# Needs: a Release build with hotfix_python and flagd_peer_benchmark, Node
# >= 20 and `npm ci` in tests/openfeature (./scripts/dev test openfeature
# does it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
INSTRUCTIONS=0
if [[ "${1:-}" == --instructions ]]; then
  INSTRUCTIONS=1
  shift
fi
BUILD="${1:-$ROOT/build/release}"
HERE="$ROOT/bench/peers"
[[ -x "$BUILD/bench/flagd_peer_benchmark" ]] ||
  { echo "run.sh: build $BUILD/bench/flagd_peer_benchmark first (./scripts/dev build release)" >&2; exit 1; }
[[ -d "$ROOT/tests/openfeature/node_modules/@openfeature/flagd-core" ]] ||
  (cd "$ROOT/tests/openfeature" && npm ci --no-audit --no-fund --loglevel=error)

cpp=() py=() js=()
for round in 1 2 3; do
  cpp+=("$("$BUILD/bench/flagd_peer_benchmark" "$HERE/flagd_flags.json" 2000000 5)")
  js+=("$(node "$HERE/flagd_core_bench.js" 300000 5)")
  py+=("$(PYTHONPATH="$BUILD/python" /usr/bin/python3 "$HERE/flagd_peer_bench.py" 200000 3)")
done
best() {  # best <json>...: per case, the smallest time
  node -e 'const runs = process.argv.slice(1).map(JSON.parse); const out = runs[0];
    for (const r of runs) for (const k of Object.keys(r.cases)) out.cases[k] = Math.min(out.cases[k], r.cases[k]);
    console.log(JSON.stringify(out));' "$@"
}
if ((INSTRUCTIONS)); then
  command -v valgrind >/dev/null || { echo "run.sh: --instructions needs valgrind" >&2; exit 1; }
  ir() {  # ir <n> <command...>: instructions callgrind collects
    local n="$1"
    shift
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 |
      awk '/Collected/ {print $4}'
  }
  echo "instructions per evaluation (callgrind; difference of two run lengths):"
  for c in static-bool ends-with-semver fractional-10; do
    a=$(ir 0 "$BUILD/bench/flagd_peer_benchmark" "$HERE/flagd_flags.json" 100000 1 "$c")
    b=$(ir 0 "$BUILD/bench/flagd_peer_benchmark" "$HERE/flagd_flags.json" 400000 1 "$c")
    x=$(ir 0 node "$HERE/flagd_core_bench.js" 20000 1 "$c")
    y=$(ir 0 node "$HERE/flagd_core_bench.js" 120000 1 "$c")
    awk -v c="$c" -v a="$a" -v b="$b" -v x="$x" -v y="$y" 'BEGIN {
      h = (b - a) / 300000; f = (y - x) / 100000;
      printf "  %-17s hotfix C++ %6.0f   flagd-core %7.0f   ratio %.1fx\n", c, h, f, f / h }'
  done
fi
CPP="$(best "${cpp[@]}")" PY="$(best "${py[@]}")" JS="$(best "${js[@]}")" node -e '
const cpp = JSON.parse(process.env.CPP), py = JSON.parse(process.env.PY), js = JSON.parse(process.env.JS);
const rows = [["case", "hotfix C++", "hotfix Python", "flagd-core (Node " + js.node + ")", "flagd-core / C++", "flagd-core / Python"]];
let ok = true;
for (const k of Object.keys(js.cases)) {
  const r1 = js.cases[k] / cpp.cases[k], r2 = js.cases[k] / py.cases[k];
  ok = ok && r1 >= 10;
  rows.push([k, cpp.cases[k].toFixed(1) + " ns", py.cases[k].toFixed(1) + " ns", js.cases[k].toFixed(1) + " ns",
             r1.toFixed(1) + "x", r2.toFixed(1) + "x"]);
}
const w = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
for (const r of rows) console.log(r.map((c, i) => c.padEnd(w[i])).join("  "));
console.log(ok ? "target met: hotfix (C++) >= 10x faster than flagd-core on every case"
               : "TARGET MISSED: hotfix (C++) is not >= 10x faster than flagd-core on every case");
console.log("(Python figures include the interpreter and the pybind11 call: see docs/benchmarks.md)");
process.exit(ok ? 0 : 1);'
