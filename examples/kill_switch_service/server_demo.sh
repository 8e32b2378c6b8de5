#!/usr/bin/env bash
# examples/kill_switch_service/server_demo.sh — the whole operator loop:
# hotfixd starts with its embedded default environment, the example service
# streams its flags from it, and an operator ramps a fix and flips a kill
# switch with hotfixctl; each change shows in the service's output within a
# second. Exits non-zero if a change never arrives. It prints the operator
# console's address with a sign-in link (docs/console.md); run from a
# terminal, hotfixd keeps serving the console after the demo until Enter.
#
#   server_demo.sh [SERVICE_BINARY [HOTFIXD [HOTFIXCTL]]]
#
# Defaults come from $HOTFIX_BUILD_DIR (set by ./scripts/dev) or build/release.
set -euo pipefail

# shellcheck source=examples/kill_switch_service/demo_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/demo_common.sh"
demo_binaries server_demo "$@"

work="$(mktemp -d "${TMPDIR:-/tmp}/hotfix-server-demo.XXXXXX")"
server_pid="" service_pid=""
cleanup() {
  [[ -n "$service_pid" ]] && kill "$service_pid" 2>/dev/null || true
  [[ -n "$server_pid" ]] && kill "$server_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Fixed for this run so the demo can use them; a real deployment lets hotfixd
# generate them on first start (docs/operations.md).
export HOTFIX_ADMIN_TOKEN="hfa_demo_$(demo_random_hex)"
export HOTFIX_SDK_KEY="hfs_demo_$(demo_random_hex)"

demo_start_hotfixd server_demo "$work"
echo "hotfixd listening on $url (embedded default environment 'production')"
# The token rides in the fragment, which the browser never sends; the
# console moves it into the tab's sessionStorage and out of the address bar.
console_link="$url/ui/#token=$HOTFIX_ADMIN_TOKEN&env=production"
echo "operator console: $url/ui/"
echo "  sign-in link (admin token of this demo): $console_link"

"$SERVICE" --server "$url" --sdk-key "$HOTFIX_SDK_KEY" --seconds 11 \
  > >(tee "$work/service.log") &
service_pid=$!

ctl() {
  echo "operator> hotfixctl $*"
  HOTFIX_URL="$url" HOTFIX_TOKEN="$HOTFIX_ADMIN_TOKEN" "$HOTFIXCTL" "$@" | sed 's/^/          /'
}
sleep 2.5
ctl rollout fix-double-charge 100 --reason "demo: the fix looks good, ramp to everyone"
sleep 3
ctl kill kill-recommendations --reason "demo: recommendations backend is melting"
sleep 3
ctl revive kill-recommendations --reason "demo: backend recovered"
wait "$service_pid" || true
service_pid=""

changes=$(grep -c "flags changed" "$work/service.log" || true)
if [[ "$changes" -lt 3 ]] || ! grep -q "recommendations OFF" "$work/service.log"; then
  echo "server_demo: FAILED -- expected 3 flag changes and a killed switch in the service output" >&2
  exit 1
fi
echo "server_demo: OK -- every hotfixctl change reached the running service through hotfixd"
if [[ -t 0 ]]; then
  echo
  echo "The console stays up: open $console_link"
  echo "Press Enter to stop hotfixd."
  read -r _ || true
fi
