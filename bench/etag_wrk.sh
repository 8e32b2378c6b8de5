#!/usr/bin/env bash
# bench/etag_wrk.sh [BUILD_DIR]
#
# Requests per second of GET /v1/flags revalidated with a matching ETag
# (If-None-Match -> 304, no body) on loopback, for a 10,000-flag environment:
# the path every polling SDK and every CDN revalidation takes while nothing
# changes. Starts hotfixd from BUILD_DIR (default $HOTFIX_BUILD_DIR, else
# build/release) on a temporary data directory, loads the flag set with
# hotfixctl, checks that the request really answers 304, then runs wrk and
# prints its report (the "Requests/sec" line is the number).
#
# Environment: HOTFIX_BENCH_FLAGS (10000), HOTFIX_BENCH_DURATION (10s),
# HOTFIX_BENCH_THREADS (2), HOTFIX_BENCH_CONNECTIONS (50).
# Needs wrk (Debian: apt-get install wrk) and curl.

set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-${HOTFIX_BUILD_DIR:-$root/build/release}}"
hotfixd="$build/tools/hotfixd"
hotfixctl="$build/tools/hotfixctl"
flags="${HOTFIX_BENCH_FLAGS:-10000}"
duration="${HOTFIX_BENCH_DURATION:-10s}"
threads="${HOTFIX_BENCH_THREADS:-2}"
connections="${HOTFIX_BENCH_CONNECTIONS:-50}"

die() { echo "etag_wrk.sh: $*" >&2; exit 1; }
[[ -x "$hotfixd" && -x "$hotfixctl" ]] ||
  die "$hotfixd / $hotfixctl not found; build the hotfixd and hotfixctl targets"
command -v wrk >/dev/null || die "wrk not found (apt-get install wrk)"
command -v curl >/dev/null || die "curl not found (apt-get install curl)"

work="$(mktemp -d "${TMPDIR:-/tmp}/hotfix-etag.XXXXXX")"
pid=""
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

random_token() { head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n'; }
admin="bench-admin-$(random_token)"
sdk="bench-sdk-$(random_token)"

HOTFIX_ADMIN_TOKEN="$admin" HOTFIX_SDK_KEY="$sdk" "$hotfixd" \
  --data-dir "$work/data" --port 0 --port-file "$work/port" \
  --keep-alive-timeout 30s 2>"$work/hotfixd.log" &
pid=$!
for _ in $(seq 100); do [[ -s "$work/port" ]] && break; sleep 0.1; done
[[ -s "$work/port" ]] || { cat "$work/hotfixd.log" >&2; die "hotfixd did not start"; }
port="$(cat "$work/port")"
url="http://127.0.0.1:$port"

# A flag set resembling a real one: boolean kill switches and fixes with
# hygiene metadata, every third flag with a targeting rule, every seventh a
# percentage rollout.
awk -v n="$flags" 'BEGIN {
  printf "{\"flags\":{"
  for (i = 0; i < n; i++) {
    if (i) printf ","
    printf "\"team-%d.fix-%d\":{\"variants\":{\"on\":true,\"off\":false},\"off_variant\":\"off\",", i % 16, i
    if (i % 3 == 0)
      printf "\"rules\":[{\"if\":[{\"attribute\":\"region\",\"op\":\"in\",\"values\":[\"eu\",\"uk\"]}],\"serve\":\"on\"}],"
    if (i % 7 == 0)
      printf "\"default\":{\"rollout\":{\"split\":[{\"variant\":\"on\",\"weight\":10},{\"variant\":\"off\",\"weight\":90}]}},"
    else
      printf "\"default\":\"%s\",", (i % 2 ? "on" : "off")
    printf "\"owner\":\"team-%d\",\"ticket\":\"OPS-%d\",\"tags\":[\"team-%d\"]}", i % 16, 1000 + i, i % 16
  }
  printf "}}\n"
}' >"$work/set.json"

HOTFIX_URL="$url" HOTFIX_TOKEN="$admin" "$hotfixctl" set --file "$work/set.json" \
  --reason "etag benchmark" >/dev/null
etag='"production-2"'
size="$(curl -s -o /dev/null -w '%{size_download}' -H "Authorization: Bearer $sdk" "$url/v1/flags")"
status="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $sdk" \
  -H "If-None-Match: $etag" "$url/v1/flags")"
[[ "$status" == 304 ]] || die "expected 304 for If-None-Match $etag, got $status"

echo "GET /v1/flags, If-None-Match $etag -> 304; $flags flags ($size bytes uncompressed);" \
  "wrk -t$threads -c$connections -d$duration on $(nproc) cores"
wrk -t"$threads" -c"$connections" -d"$duration" --latency \
  -H "Authorization: Bearer $sdk" -H "If-None-Match: $etag" "$url/v1/flags"
