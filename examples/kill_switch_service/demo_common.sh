# examples/kill_switch_service/demo_common.sh — sourced by the demo scripts
# beside it (server_demo.sh, guard_demo.sh, ha_demo.sh): which binaries they
# run, tokens made up for one run, and starting hotfixd on loopback.
# shellcheck shell=bash

# demo_binaries NAME [SERVICE_BINARY [HOTFIXD [HOTFIXCTL]]]: sets SERVICE,
# HOTFIXD and HOTFIXCTL (defaults from $HOTFIX_BUILD_DIR, which ./scripts/dev
# sets, or build/release); exits naming NAME if one is not built.
demo_binaries() {
  local name="$1" root build bin
  shift
  root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
  build="${HOTFIX_BUILD_DIR:-$root/build/release}"
  SERVICE="${1:-$build/examples/kill_switch_service/kill_switch_service}"
  HOTFIXD="${2:-$build/tools/hotfixd}"
  HOTFIXCTL="${3:-$build/tools/hotfixctl}"
  for bin in "$SERVICE" "$HOTFIXD" "$HOTFIXCTL"; do
    [[ -x "$bin" ]] || { echo "$name: $bin is not built" >&2; exit 1; }
  done
}

# 32 random hex digits, for a demo's made-up admin token and SDK key.
demo_random_hex() { od -An -tx1 -N16 /dev/urandom | tr -d ' \n'; }

# demo_start_hotfixd NAME WORK [hotfixd args...]: starts hotfixd on a free
# port of 127.0.0.1 with its data in WORK/data and its log in
# WORK/hotfixd.log; sets server_pid and url (exits naming NAME if it does not
# start within 10 s).
demo_start_hotfixd() {
  local name="$1" work="$2"
  shift 2
  "$HOTFIXD" --data-dir "$work/data" --host 127.0.0.1 --port 0 \
    --port-file "$work/port" "$@" 2>"$work/hotfixd.log" &
  server_pid=$!
  for _ in $(seq 100); do [[ -s "$work/port" ]] && break; sleep 0.1; done
  [[ -s "$work/port" ]] || {
    echo "$name: hotfixd did not start:" >&2; cat "$work/hotfixd.log" >&2; exit 1; }
  url="http://127.0.0.1:$(cat "$work/port")"
}
