#!/usr/bin/env bash
# examples/kill_switch_service/guard_demo.sh — a buggy fix ramped with a
# guarded staged rollout and switched off by the guard, with nobody typing
# `kill` (docs/guarded-rollouts.md):
#
#   - hotfixd starts with its embedded default environment; the operator
#     gives fix-double-charge a local guard (more than 10 % of its charges
#     failing over at least 50 outcomes) and a 0 % split;
#   - two copies of the example service stream their flags from hotfixd:
#     checkout-1 reports every charge's outcome (GuardScope), checkout-2 is
#     an older build that reports none; in both, 30 % of the charges on the
#     fix's path fail (and 1 % of all charges);
#   - the operator starts a staged rollout, 10 % → 50 % → 100 %;
#   - within a second checkout-1's local guard trips (GUARD_TRIPPED) and
#     tells hotfixd, which kills the flag (actor `guard`, the numbers in the
#     reason); checkout-2, which never tripped, stops charging through the fix
#     as soon as the kill reaches it by its stream.
#
# Exits non-zero if the guard never acts.
#
#   guard_demo.sh [SERVICE_BINARY [HOTFIXD [HOTFIXCTL]]]
#
# Defaults come from $HOTFIX_BUILD_DIR (set by ./scripts/dev) or build/release.
set -euo pipefail

# shellcheck source=examples/kill_switch_service/demo_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/demo_common.sh"
demo_binaries guard_demo "$@"

work="$(mktemp -d "${TMPDIR:-/tmp}/hotfix-guard-demo.XXXXXX")"
server_pid="" service_pids=()
cleanup() {
  local pid
  for pid in ${service_pids[@]+"${service_pids[@]}"}; do
    kill "$pid" 2>/dev/null || true
  done
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Fixed for this run so the demo can use them (see server_demo.sh).
HOTFIX_ADMIN_TOKEN="hfa_demo_$(demo_random_hex)"
HOTFIX_SDK_KEY="hfs_demo_$(demo_random_hex)"
export HOTFIX_ADMIN_TOKEN HOTFIX_SDK_KEY

# --guard-interval 1s: hotfixd judges the plan every second (default 5 s); a
# trip reported by a process is acted on at once either way.
demo_start_hotfixd guard_demo "$work" --guard-interval 1s
echo "hotfixd listening on $url (embedded default environment 'production')"

ctl() {
  echo "operator> hotfixctl $*"
  HOTFIX_URL="$url" HOTFIX_TOKEN="$HOTFIX_ADMIN_TOKEN" "$HOTFIXCTL" "$@" | sed 's/^/          /'
}
ctl_quiet() {
  HOTFIX_URL="$url" HOTFIX_TOKEN="$HOTFIX_ADMIN_TOKEN" "$HOTFIXCTL" "$@"
}

cat >"$work/fix-double-charge.json" <<'JSON'
{
  "variants": { "on": true, "off": false },
  "off_variant": "off",
  "default": { "rollout": { "bucket_by": "key",
                            "split": [ { "variant": "on",  "weight": 0 },
                                       { "variant": "off", "weight": 100 } ] } },
  "guard": { "max_failure_rate": 0.1, "min_samples": 50, "window": "60s" },
  "owner": "payments-oncall",
  "ticket": "PAY-123",
  "description": "Charge once when the payment provider times out and the client retries"
}
JSON
ctl set fix-double-charge --file "$work/fix-double-charge.json" \
  --reason "demo: the double-charge fix, with a local guard"

# service NAME ARGS...: one copy of the service, its lines prefixed by NAME.
service() {
  local name="$1"
  shift
  "$SERVICE" --server "$url" --sdk-key "$HOTFIX_SDK_KEY" --seconds 8 \
    --instance "$name" --flush-ms 1000 --fix-failure-rate 0.3 \
    --base-failure-rate 0.01 --guard-min-samples 50 "$@" \
    > >(sed -u "s/^/$name | /" | tee "$work/$name.log") 2>&1 &
  service_pids+=($!)
}
service checkout-1 --seed 1
service checkout-2 --seed 2 --no-outcome-reports
sleep 1.5
ctl rollout fix-double-charge --stages 10,50,100 --every 1m --min-samples 200 \
  --on-regression kill --reason "demo: PAY-123 ramp the double-charge fix, guarded"

# Nobody types `kill`: wait (at most 15 s) for the guard to act.
acted=0
for _ in $(seq 150); do
  if ctl_quiet rollout fix-double-charge --status 2>/dev/null | grep -q rolled_back; then
    acted=1
    break
  fi
  sleep 0.1
done
for pid in "${service_pids[@]}"; do wait "$pid" || true; done
service_pids=()

echo
ctl rollout fix-double-charge --status
ctl history --limit 2

if ((acted == 0)); then
  echo "guard_demo: FAILED -- the guard never rolled the fix back" >&2
  exit 1
fi
if ! grep -q "GUARD_TRIPPED fix-double-charge" "$work/checkout-1.log" ||
   ! grep -q "fix KILLED" "$work/checkout-2.log" ||
   grep -q "GUARD_TRIPPED fix-double-charge" "$work/checkout-2.log"; then
  echo "guard_demo: FAILED -- expected checkout-1 to trip and checkout-2 to follow the guard's kill" >&2
  exit 1
fi
echo "guard_demo: OK -- checkout-1's guard tripped, hotfixd killed the fix (actor guard), and checkout-2 followed without tripping"
