#!/usr/bin/env bash
# Benchmark of the reports (issue #6): national PDF (target < 3 s) and XLSX (target < 1 s), against
# the floor = building the model alone (the SQL queries producing every figure), in the same run.
# Two measures: in-process medians (report --bench) and end-to-end HTTP through the Release server.
# Uses its own database (obs_bench_reports), loaded once with the bundled data; while the status
# import (issue #3) is not merged, scripts/reports-demo-seed.sql adds the real ODF observations.
# Usage: scripts/bench-reports.sh [runs]     (default 5)
source "$(dirname "$0")/lib.sh"
RUNS="${1:-5}"
DB=obs_bench_reports
PORT="${OBS_BENCH_PORT:-5391}"
ensure_dotnet; ensure_cluster
apt_install fonts-dejavu-core curl
export ConnectionStrings__Observatoire="Host=127.0.0.1;Port=$OBS_PG_PORT;Username=postgres;Database=$DB"
export RateLimits__PerClient=false     # one client: measure the reports, not the per-client limits
psql_admin -tAc "select 1 from pg_database where datname = '$DB'" | grep -q 1 || psql_admin -c "create database $DB"
build_app
APP=(dotnet "$REPO/src/Observatoire/bin/Release/net10.0/Observatoire.dll")
(cd "$REPO" && "${APP[@]}" load-if-empty >/dev/null)
psql_admin -d "$DB" -v datadir="$REPO/data" -f "$REPO/scripts/reports-demo-seed.sql" >/dev/null

echo "# machine: nproc=$(nproc), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -h | awk '/Mem:/ {print $2 " RAM"}')"
echo "# in-process, median of $RUNS after a warm-up"
(cd "$REPO" && "${APP[@]}" report --bench "$RUNS")

# HTTP end-to-end (curl), median of $RUNS after a warm-up: first with the report cache off (every
# request builds and renders: the cost of a new report), then on (the same report again, from memory).
for cache in 0 64; do
  echo "# HTTP end-to-end (curl), Reports:CacheMegabytes=$cache, median of $RUNS after a warm-up"
  # exec: $! is then the server itself, which kill stops (not a subshell that would leave it running).
  (cd "$REPO" && exec env Reports__CacheMegabytes=$cache "${APP[@]}" --urls "http://127.0.0.1:$PORT" >/dev/null 2>&1) &
  SERVER=$!
  trap 'kill $SERVER 2>/dev/null || true' EXIT
  for _ in $(seq 1 60); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.5; done
  for path in national.pdf national.xlsx; do
    curl -sf -o /dev/null "http://127.0.0.1:$PORT/api/reports/$path"   # warm-up
    times=()
    for _ in $(seq 1 "$RUNS"); do
      times+=("$(curl -sf -o /tmp/bench-report.out -w '%{time_total}' "http://127.0.0.1:$PORT/api/reports/$path")")
    done
    median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    echo "http_cache${cache}_$path median_s=$median bytes=$(stat -c %s /tmp/bench-report.out)"
  done
  kill $SERVER; wait $SERVER 2>/dev/null || true
done
