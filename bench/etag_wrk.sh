#!/usr/bin/env bash
# bench/etag_wrk.sh [BUILD_DIR]
#
# Requests per second of GET /v1/flags revalidated with a matching ETag
# (If-None-Match -> 304, no body) on loopback, for a 10,000-flag environment:
# the path every polling SDK and every CDN revalidation takes while nothing
# changes — against the baseline it is judged by, nginx (Debian) serving the
# same document as a static file with `etag on`, in the same run.
#
# Starts hotfixd from BUILD_DIR (default $HOTFIX_BUILD_DIR, else
# build/release) on a temporary data directory, loads the flag set with
# hotfixctl, checks that the request really answers 304; starts nginx (one
# worker process, and `auto`) on the document hotfixd serves; then runs wrk
# against each, HOTFIX_BENCH_ROUNDS times in turn, and prints each figure, the
# medians and the ratios hotfixd / nginx.
#
# Environment: HOTFIX_BENCH_FLAGS (10000), HOTFIX_BENCH_DURATION (10s),
# HOTFIX_BENCH_THREADS (2), HOTFIX_BENCH_CONNECTIONS (50),
# HOTFIX_BENCH_ROUNDS (3). Needs wrk, nginx and curl (Debian packages; all
# installed by `./scripts/dev deps`).

set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-${HOTFIX_BUILD_DIR:-$root/build/release}}"
hotfixd="$build/tools/hotfixd"
hotfixctl="$build/tools/hotfixctl"
flags="${HOTFIX_BENCH_FLAGS:-10000}"
duration="${HOTFIX_BENCH_DURATION:-10s}"
threads="${HOTFIX_BENCH_THREADS:-2}"
connections="${HOTFIX_BENCH_CONNECTIONS:-50}"
rounds="${HOTFIX_BENCH_ROUNDS:-3}"

die() { echo "etag_wrk.sh: $*" >&2; exit 1; }
[[ -x "$hotfixd" && -x "$hotfixctl" ]] ||
  die "$hotfixd / $hotfixctl not found; build the hotfixd and hotfixctl targets"
command -v wrk >/dev/null || die "wrk not found (apt-get install wrk)"
command -v curl >/dev/null || die "curl not found (apt-get install curl)"
nginx_bin="$(command -v nginx || echo /usr/sbin/nginx)"
[[ -x "$nginx_bin" ]] || die "nginx not found (apt-get install nginx)"

work="$(mktemp -d "${TMPDIR:-/tmp}/hotfix-etag.XXXXXX")"
pid=""
nginx_pids=()
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  fi
  for p in "${nginx_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
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

HOTFIX_URL="$url" HOTFIX_TOKEN="$admin" "$hotfixctl" set --file "$work/set.json" --allow-delete \
  --reason "etag benchmark" >/dev/null
etag='"production-2"'
size="$(curl -s -o /dev/null -w '%{size_download}' -H "Authorization: Bearer $sdk" "$url/v1/flags")"
status="$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $sdk" \
  -H "If-None-Match: $etag" "$url/v1/flags")"
[[ "$status" == 304 ]] || die "expected 304 for If-None-Match $etag, got $status"

# The same document as a static file behind nginx, with nginx's own ETag.
# nginx's workers run as an unprivileged user: let them read the document.
mkdir -p "$work/www"
chmod a+rx "$work" "$work/www"
curl -s -H "Authorization: Bearer $sdk" "$url/v1/flags" >"$work/www/flags.json"
chmod a+r "$work/www/flags.json"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
start_nginx() {  # start_nginx NAME WORKERS -> sets nginx_url
  local name="$1" workers="$2" p
  p="$(free_port)"
  mkdir -p "$work/$name"
  cat >"$work/$name/nginx.conf" <<EOF
worker_processes $workers;
daemon off;
pid $work/$name/nginx.pid;
error_log $work/$name/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  etag on;
  keepalive_requests 100000;
  client_body_temp_path $work/$name; proxy_temp_path $work/$name;
  fastcgi_temp_path $work/$name; uwsgi_temp_path $work/$name; scgi_temp_path $work/$name;
  server {
    listen 127.0.0.1:$p;
    location /v1/ { alias $work/www/; default_type application/json; }
  }
}
EOF
  "$nginx_bin" -c "$work/$name/nginx.conf" -p "$work/$name" 2>>"$work/$name/error.log" &
  nginx_pids+=("$!")
  for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$p/v1/flags.json" && break; sleep 0.1; done
  nginx_url="http://127.0.0.1:$p/v1/flags.json"
}
start_nginx nginx1 1; nginx1_url="$nginx_url"
start_nginx nginxauto auto; nginxauto_url="$nginx_url"
nginx_etag="$(curl -sI "$nginx1_url" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')"
[[ "$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $nginx_etag" "$nginx1_url")" == 304 ]] ||
  die "nginx does not answer 304 for $nginx_etag"

run_wrk() {  # run_wrk URL HEADER... -> prints Requests/sec
  local target="$1"; shift
  local args=()
  for h in "$@"; do args+=(-H "$h"); done
  wrk -t"$threads" -c"$connections" -d"$duration" "${args[@]}" "$target" |
    awk '/Requests\/sec/ {print $2}'
}
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }

echo "GET /v1/flags, If-None-Match -> 304; $flags flags ($size bytes uncompressed);" \
  "wrk -t$threads -c$connections -d$duration on $(nproc) cores, $rounds rounds"
: >"$work/hotfixd.txt"; : >"$work/nginx1.txt"; : >"$work/nginxauto.txt"
for round in $(seq "$rounds"); do
  h="$(run_wrk "$url/v1/flags" "Authorization: Bearer $sdk" "If-None-Match: $etag")"
  n1="$(run_wrk "$nginx1_url" "If-None-Match: $nginx_etag")"
  na="$(run_wrk "$nginxauto_url" "If-None-Match: $nginx_etag")"
  echo "round $round: hotfixd $h req/s | nginx (1 worker) $n1 | nginx (auto) $na"
  echo "$h" >>"$work/hotfixd.txt"; echo "$n1" >>"$work/nginx1.txt"; echo "$na" >>"$work/nginxauto.txt"
done
h="$(median <"$work/hotfixd.txt")"; n1="$(median <"$work/nginx1.txt")"; na="$(median <"$work/nginxauto.txt")"
awk -v h="$h" -v n1="$n1" -v na="$na" 'BEGIN {
  printf "median: hotfixd %.0f req/s, nginx 1 worker %.0f, nginx auto %.0f\n", h, n1, na
  printf "ratio hotfixd / nginx: %.2f (1 worker), %.2f (auto)\n", h / n1, h / na
}'
