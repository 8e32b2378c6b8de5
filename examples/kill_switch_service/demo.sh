#!/usr/bin/env bash
# examples/kill_switch_service/demo.sh [BINARY]
#
# Runs the kill-switch service against a temporary flag file and plays the
# operator, the way one would edit a flag file deployed beside a service:
#
#   ~2.5 s  ramp fix-double-charge from 25 % to 100 % of traffic
#   ~4.5 s  kill recommendations (an incident in the recommendation service)
#   ~6.5 s  a botched edit ("kiled" instead of "killed"): rejected, the last
#           good flags stay in force and the status turns stale
#   ~8.5 s  revive recommendations (the fixed edit)
#
# Each edit writes a whole new document to a temporary file and renames it
# over the flag file, so the service never reads a half-written file. The
# service picks every change up within 100 ms; the summary line of the next
# second shows it. Exits 0 if the service saw all three accepted versions.
#
# Called by `./scripts/dev demo` after it builds build/release. BINARY defaults
# to $HOTFIX_BUILD_DIR/examples/kill_switch_service/kill_switch_service, with
# HOTFIX_BUILD_DIR defaulting to build/release in this repository.

set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
bin="${1:-${HOTFIX_BUILD_DIR:-$root/build/release}/examples/kill_switch_service/kill_switch_service}"
if [[ ! -x "$bin" ]]; then
  echo "demo.sh: $bin not found or not executable; build it first (./scripts/dev build)" >&2
  exit 1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/hotfix-demo.XXXXXX")"
flags="$work/flags.json"
out="$work/service.out"
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then kill "$pid"; fi
  rm -rf "$work"
}
trap cleanup EXIT

# write_flags VERSION FIX_PERCENT RECOMMENDATIONS_KILLED [KILLED_FIELD_NAME]
#
# Edits the service's own flag set (its embedded defaults, saved in $base)
# and replaces the flag file atomically. The last argument exists only to make
# the operator's typo.
write_flags() {
  python3 - "$base" "$flags.tmp" "$@" <<'PY'
import json, sys
base, out, version, fix_on, killed = sys.argv[1:6]
killed_field = sys.argv[6] if len(sys.argv) > 6 else "killed"
with open(base) as f:
    doc = json.load(f)
doc["version"] = int(version)
split = doc["flags"]["fix-double-charge"]["default"]["rollout"]["split"]
split[0]["weight"], split[1]["weight"] = int(fix_on), 100 - int(fix_on)
recommendations = doc["flags"]["kill-recommendations"]
doc["flags"]["kill-recommendations"] = {
    (killed_field if k == "killed" else k): (killed == "true" if k == "killed" else v)
    for k, v in recommendations.items()}
with open(out, "w") as f:
    json.dump(doc, f, indent=2)
PY
  mv -f "$flags.tmp" "$flags"
}

operator() { printf '\noperator> %s\n\n' "$*"; }

# Start from the flags compiled into the service, as a fresh deployment would.
base="$work/defaults.json"
"$bin" --print-default-flags >"$base"
cp "$base" "$flags"
"$bin" --flags "$flags" --seconds 11 > >(tee "$out") 2>&1 &
pid=$!

sleep 2.5
operator "ramp fix-double-charge from 25 % to 100 % (version 2)"
write_flags 2 100 false

sleep 2
operator "kill recommendations: set \"killed\": true (version 3)"
write_flags 3 100 true

sleep 2
operator "revive recommendations -- with a typo, \"kiled\": false (version 4)"
write_flags 4 100 false kiled

sleep 2
operator "revive recommendations, typo fixed (version 4)"
write_flags 4 100 false

status=0
wait "$pid" || status=$?
pid=""
wait  # for tee: the output file is complete once it exits

if [[ $status -ne 0 ]]; then
  echo "demo: FAILED: the service exited with status $status" >&2
  exit 1
fi
for version in 2 3 4; do
  if ! grep -q -- "-> v$version " "$out"; then
    echo "demo: FAILED: the service never applied flag version $version" >&2
    exit 1
  fi
done
if ! grep -q "/stale" "$out"; then
  echo "demo: FAILED: the botched edit was not reported as stale" >&2
  exit 1
fi
echo
echo "demo: OK -- every edit reached the running service; the bad one was rejected"
