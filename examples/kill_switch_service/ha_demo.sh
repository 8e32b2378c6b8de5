#!/usr/bin/env bash
# examples/kill_switch_service/ha_demo.sh — two hotfixd replicas on one
# PostgreSQL, and nothing in front of them: the example service is simply
# given both URLs. A kill switch flipped through replica B reaches the
# service, which follows replica A; then replica A is killed (SIGKILL) and
# the service moves to B by itself and keeps following changes. Exits
# non-zero if a change never arrives or the service does not move.
#
#   ha_demo.sh [SERVICE_BINARY [HOTFIXD [HOTFIXCTL]]]
#
# Needs Debian's postgresql package (./scripts/dev deps); the demo makes a
# throwaway cluster in a temporary directory (as `nobody` when run as root),
# on a Unix socket only, and removes it afterwards.
set -euo pipefail

# shellcheck source=examples/kill_switch_service/demo_common.sh
source "$(dirname "${BASH_SOURCE[0]}")/demo_common.sh"
demo_binaries ha_demo "$@"
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
[[ -x "$PG_BIN/postgres" ]] || {
  echo "ha_demo: PostgreSQL is not installed; run ./scripts/dev deps" >&2; exit 1; }

work="$(mktemp -d "${TMPDIR:-/tmp}/hotfix-ha-demo.XXXXXX")"
chmod 755 "$work"
pg_pid="" a_pid="" b_pid="" service_pid=""
cleanup() {
  local pid
  for pid in "$service_pid" "$a_pid" "$b_pid"; do
    [[ -n "$pid" ]] && kill "$pid" 2>/dev/null || true
  done
  [[ -n "$pg_pid" ]] && kill -INT "$pg_pid" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# PostgreSQL refuses to run as root.
as_owner=()
mkdir "$work/pg"
if ((EUID == 0)); then
  chown nobody "$work/pg"
  as_owner=(setpriv --reuid=nobody --regid=nogroup --clear-groups --)
fi
"${as_owner[@]}" "$PG_BIN/initdb" -D "$work/pg/data" -U hotfix -A trust \
  -E UTF8 --no-sync >"$work/initdb.log" 2>&1 ||
  { echo "ha_demo: initdb failed:" >&2; cat "$work/initdb.log" >&2; exit 1; }
"${as_owner[@]}" "$PG_BIN/postgres" -D "$work/pg/data" -k "$work/pg" \
  -c listen_addresses= >"$work/postgres.log" 2>&1 &
pg_pid=$!
for _ in $(seq 100); do
  "$PG_BIN/pg_isready" -q -h "$work/pg" -U hotfix && break
  sleep 0.1
done
"$PG_BIN/createdb" -h "$work/pg" -U hotfix hotfix
database="postgresql:///hotfix?host=$work/pg&user=hotfix"
echo "PostgreSQL ready (throwaway cluster on a Unix socket)"

export HOTFIX_ADMIN_TOKEN="hfa_demo_$(demo_random_hex)"
export HOTFIX_SDK_KEY="hfs_demo_$(demo_random_hex)"

# start_replica NAME: starts hotfixd on the shared database; sets NAME_pid
# and prints its URL.
start_replica() {
  "$HOTFIXD" --database "$database" --host 127.0.0.1 --port 0 \
    --port-file "$work/$1.port" 2>"$work/$1.log" &
  printf -v "${1}_pid" '%s' "$!"
  for _ in $(seq 100); do [[ -s "$work/$1.port" ]] && break; sleep 0.1; done
  [[ -s "$work/$1.port" ]] || {
    echo "ha_demo: replica $1 did not start:" >&2; cat "$work/$1.log" >&2; exit 1; }
}
start_replica a
start_replica b
url_a="http://127.0.0.1:$(cat "$work/a.port")"
url_b="http://127.0.0.1:$(cat "$work/b.port")"
echo "replica A on $url_a, replica B on $url_b, one database"

"$SERVICE" --server "$url_a" --server "$url_b" --sdk-key "$HOTFIX_SDK_KEY" \
  --seconds 12 > >(tee "$work/service.log") &
service_pid=$!

ctl_b() {
  echo "operator> (through replica B) hotfixctl $*"
  HOTFIX_URL="$url_b" HOTFIX_TOKEN="$HOTFIX_ADMIN_TOKEN" "$HOTFIXCTL" "$@" | sed 's/^/          /'
}
sleep 2.5
ctl_b kill kill-recommendations --reason "demo: recommendations backend is melting"
sleep 2.5
echo "operator> kill -9 replica A ($url_a)"
kill -9 "$a_pid"
wait "$a_pid" 2>/dev/null || true
a_pid=""
sleep 2.5
ctl_b revive kill-recommendations --reason "demo: backend recovered"
wait "$service_pid" || true
service_pid=""

changes=$(grep -c "flags changed" "$work/service.log" || true)
if [[ "$changes" -lt 2 ]] || ! grep -q "recommendations OFF" "$work/service.log" ||
   ! grep -q "from $url_a" "$work/service.log" ||
   ! grep -q "from $url_b" "$work/service.log"; then
  echo "ha_demo: FAILED -- expected the kill through B to reach the service on A, then the service to follow B" >&2
  exit 1
fi
echo "ha_demo: OK -- a change through replica B reached the service on A; with A killed, the service followed B"
