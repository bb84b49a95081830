#!/usr/bin/env bash
# Sustained mixed load (issue #14), loopback, Release build, the production limits (appsettings.json):
#   1. idle: the cheap requests alone, 1 connection, then 25 connections;
#   2. mixed: 25 connections of cheap requests (health, tiles from the store, cached GeoJSON) and 25 of
#      expensive ones (OData pages, report CSV, GeoJSON of communes, tiles rendered on request) at once,
#      50 connections for --duration seconds (default 60).
# wrk is one client (127.0.0.1): the per-client limits answer most expensive requests 429, the
# concurrency bound 503 when its queue is full; both with Retry-After. Prints a Markdown block for
# docs/benchmarks.md. Options: --database NAME (default obs_bench_map, loaded when empty),
# --port N (default 5481), --duration S.
source "$(dirname "$0")/lib.sh"

DB=obs_bench_map; PORT=5481; DURATION=60
while [ $# -gt 0 ]; do
  case "$1" in
    --database) DB="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    -h|--help) sed -n 2,11p "$0"; exit 0 ;;
    *) die "option inconnue : $1" ;;
  esac
done

ensure_dotnet; ensure_cluster; ensure_npm_packages
apt_install wrk
start_bench_app "$DB" "$PORT" bench-load-server.log

LUA="$REPO/scripts/bench-load/mixed.lua"
run() { # $1 class, $2 connections, $3 seconds
  CLASS="$1" wrk -t "$(( $2 < 2 ? 1 : 2 ))" -c "$2" -d "${3}s" --timeout 30s -s "$LUA" "$BASE" | grep '^RESULT' | sed 's/^RESULT //'
}
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }

say "Échauffement (JIT, caches)…"
run cheap 4 5 >/dev/null; run expensive 4 5 >/dev/null
sleep 15   # the per-client buckets refill (60 tokens at 5 a second)
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
say "Au repos : requêtes légères seules…"
IDLE1=$(run cheap 1 20)
IDLE25=$(run cheap 25 20)
sleep 5
say "Charge mixte : 25 + 25 connexions, ${DURATION} s…"
run expensive 25 "$DURATION" >"$REPO/out/bench-load-expensive.txt" &
EXP_PID=$!
MIXED_CHEAP=$(run cheap 25 "$DURATION")
wait $EXP_PID
MIXED_EXP=$(cat "$REPO/out/bench-load-expensive.txt")
HEALTH_AFTER=$(curl -s "$BASE/health")
SERVER_500=$(grep -c 'fail: Microsoft.AspNetCore' "$REPO/out/bench-load-server.log" || true)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
cat <<MD
Command: \`scripts/bench-load.sh --duration $DURATION\` (database $DB, Release build, loopback, wrk 2 threads).
Machine: $(nproc) cores ($CPU); load average when the measures started $LOAD_START, at the end $(cut -d' ' -f1-3 /proc/loadavg).

| run | class | connections | requests | req/s | p50 ms | p95 ms | p99 ms | statuses | 429/503 without Retry-After |
|---|---|---|---|---|---|---|---|---|---|
| idle | cheap | 1 | $(field requests "$IDLE1") | $(field rps "$IDLE1") | $(field p50_ms "$IDLE1") | $(field p95_ms "$IDLE1") | $(field p99_ms "$IDLE1") | $(field statuses "$IDLE1") | $(field no_retry_after "$IDLE1") |
| idle | cheap | 25 | $(field requests "$IDLE25") | $(field rps "$IDLE25") | $(field p50_ms "$IDLE25") | $(field p95_ms "$IDLE25") | $(field p99_ms "$IDLE25") | $(field statuses "$IDLE25") | $(field no_retry_after "$IDLE25") |
| mixed | cheap | 25 | $(field requests "$MIXED_CHEAP") | $(field rps "$MIXED_CHEAP") | $(field p50_ms "$MIXED_CHEAP") | $(field p95_ms "$MIXED_CHEAP") | $(field p99_ms "$MIXED_CHEAP") | $(field statuses "$MIXED_CHEAP") | $(field no_retry_after "$MIXED_CHEAP") |
| mixed | expensive | 25 | $(field requests "$MIXED_EXP") | $(field rps "$MIXED_EXP") | $(field p50_ms "$MIXED_EXP") | $(field p95_ms "$MIXED_EXP") | $(field p99_ms "$MIXED_EXP") | $(field statuses "$MIXED_EXP") | $(field no_retry_after "$MIXED_EXP") |

Cheap p95 under the mixed load / idle p95: $(ratio "$(field p95_ms "$MIXED_CHEAP")" "$(field p95_ms "$IDLE25")")× the 25-connection idle run, $(ratio "$(field p95_ms "$MIXED_CHEAP")" "$(field p95_ms "$IDLE1")")× the 1-connection one. Socket errors: cheap $(field socket_errors "$MIXED_CHEAP"), expensive $(field socket_errors "$MIXED_EXP"). Unhandled errors in the server log: $SERVER_500. /health right after: \`$HEALTH_AFTER\`.
MD
