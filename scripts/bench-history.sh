#!/usr/bin/env bash
# Time travel at scale (issue #17): the same dated answers on two databases, one holding only the
# bundled snapshots (obs_bench_hist_base) and one with ten years of synthetic monthly observations
# around them (obs_bench_history, ~4.1 million rows: scripts/bench-history/synthesize.sql), both created
# and loaded on first use. Between 2022-04-25 and 2022-11-14 both hold the same status (the bundled
# snapshots'), so a date there asks both the same question with the same answer. For each database:
# national indicators at five dates and their SQL floor (bench-indicators), then over HTTP with wrk, a
# random date per request (of 2016-2025, then of that window): a breakdown by région, the départements
# choropleth uncached (Cache-Control: no-cache, honoured for the run), an OData StatusOn page (1 client
# each), a filtered dated commune tile (10 clients); then the import of a full snapshot at a new date,
# on a throw-away copy.
# Usage: scripts/bench-history.sh [durée par mesure wrk, défaut 10s]
source "$(dirname "$0")/lib.sh"
DURATION="${1:-10s}"
PORT="${OBS_BENCH_PORT:-5398}"
BASE=obs_bench_hist_base
HIST=obs_bench_history
PSQL=("$PG_BIN/psql" -X -q -h 127.0.0.1 -p "$OBS_PG_PORT" -U postgres)

LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
ensure_dotnet
ensure_cluster
command -v wrk >/dev/null || apt_install wrk
cs() { echo "Host=127.0.0.1;Port=$OBS_PG_PORT;Username=postgres;Database=$1;Maximum Pool Size=20;Timeout=5;Command Timeout=600"; }
exists() { "${PSQL[@]}" -Atc "select 1 from pg_database where datname = '$1'" | grep -q 1; }

say "Build Release…"
dotnet build "$REPO/src/Observatoire" -c Release -nologo -v q >/dev/null
APP="$REPO/src/Observatoire/bin/Release/net10.0/Observatoire.dll"
cli() { local db=$1; shift; (cd "$REPO" && ConnectionStrings__Observatoire="$(cs "$db")" dotnet "$APP" "$@"); }

if ! exists "$BASE"; then
  say "Base $BASE : chargement des données livrées…"
  "${PSQL[@]}" -c "create database $BASE"
fi
cli "$BASE" load-if-empty >/dev/null
if ! exists "$HIST"; then
  say "Base $HIST : copie de $BASE et historique synthétique (quelques minutes)…"
  "${PSQL[@]}" -c "create database $HIST template $BASE"
  "${PSQL[@]}" -d "$HIST" -f "$REPO/scripts/bench-history/synthesize.sql"
  "${PSQL[@]}" -d "$HIST" -c "select refresh_derived_status(null)"
fi
cli "$HIST" migrate >/dev/null

echo "machine : $(nproc) cœurs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), charge $LOAD_BEFORE"
for db in "$BASE" "$HIST"; do
  echo "== $db : $("${PSQL[@]}" -d "$db" -Atc "select count(*) || ' observations, ' || (select count(*) from status_period) || ' périodes' from observation")"
done

LUA=$(mktemp --suffix .lua)
cat >"$LUA" <<'LUAEOF'
-- A random day in place of DATE in the path, for every request: of 2016-2025 (BENCH_DAYS=any), or of
-- the bundled snapshots' window 2022-04-25 … 2022-11-14 (BENCH_DAYS=window), where both databases hold
-- the same status (scripts/bench-history/synthesize.sql).
day = function()
  if os.getenv("BENCH_DAYS") == "window" then
    return os.date("%Y-%m-%d", os.time { year = 2022, month = 4, day = 25 + math.random(0, 203), hour = 12 })
  end
  return string.format("%04d-%02d-%02d", math.random(2016, 2025), math.random(1, 12), math.random(1, 28))
end
request = function()
  return wrk.format(nil, (wrk.path:gsub("DATE", day())))
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT n=%d errors=%d p50=%.1fms p95=%.1fms\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000))
end
LUAEOF
TILE_LUA=$(mktemp --suffix .lua)
{ cat "$LUA"; cat <<'LUAEOF'
-- Commune tiles at zoom 10 over Bretagne, a random one and a random date per request.
request = function()
  local x, y = math.random(500, 512), math.random(354, 362)
  return wrk.format(nil, string.format("/tiles/communes/10/%d/%d.pbf?date=%s&obliged=true", x, y, day()))
end
LUAEOF
} >"$TILE_LUA"
trap 'rm -f "$LUA" "$TILE_LUA"; kill $APP_PID 2>/dev/null || true' EXIT

measure() { # label clients url [lua]: 3 s of warm-up (JIT, plans, caches), then the measure
  wrk -t"$([ "$2" -gt 1 ] && echo 2 || echo 1)" -c"$2" -d3s -H 'Cache-Control: no-cache' -s "${4:-$LUA}" "$3" >/dev/null
  local r; r=$(wrk -t"$([ "$2" -gt 1 ] && echo 2 || echo 1)" -c"$2" -d"$DURATION" -H 'Cache-Control: no-cache' -s "${4:-$LUA}" "$3" | grep '^RESULT')
  printf '    %-34s %s\n' "$1" "${r#RESULT }"
}

for db in "$BASE" "$HIST"; do
  echo "== $db"
  for d in 2017-06-15 2020-01-15 2022-06-15 2022-10-19 2025-06-15; do
    echo "  indicateurs nationaux au $d (médiane de 15, couche et plancher SQL) :"
    cli "$db" bench-indicators --date "$d" --runs 15 | grep -E 'médiane|plancher|ratio|résultat' | sed 's/^/    /'
  done
  ConnectionStrings__Observatoire="$(cs "$db")" Map__HonourClientNoCache=true RateLimits__PerClient=false \
    Logging__LogLevel__Default=Warning dotnet "$APP" --urls "http://127.0.0.1:$PORT" >/tmp/bench-history-app.log 2>&1 &
  APP_PID=$!
  for _ in $(seq 120); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.5; done
  B="http://127.0.0.1:$PORT"
  for u in "$B/api/indicators?date=2020-01-15&by=region" "$B/api/geo/departements?date=2020-01-15" \
           "$B/odata/StatusOn(Date=2020-01-15)?\$top=100&\$filter=Type%20eq%20'COM'%20and%20IsOpen" "$B/tiles/communes/10/506/358.pbf?date=2020-01-15&obliged=true"; do
    curl -sf -o /dev/null "$u" || die "la requête échoue ($u)"
    for _ in 1 2 3; do curl -sf -o /dev/null -H 'Cache-Control: no-cache' "$u"; done # warm-up
  done
  for days in any window; do
    export BENCH_DAYS=$days
    echo "  dates : $([ $days = any ] && echo 'au hasard, 2016-2025' || echo 'au hasard, du 2022-04-25 au 2022-11-14 (même statut dans les deux bases)')"
    measure "répartition par région (1 client)" 1 "$B/api/indicators?date=DATE&by=region"
    measure "choroplèthe départements (1 client)" 1 "$B/api/geo/departements?date=DATE"
    measure "OData StatusOn, page de 100 (1 client)" 1 "$B/odata/StatusOn(Date=DATE)?%24top=100&%24filter=Type%20eq%20'COM'%20and%20IsOpen"
    measure "tuile communes datée (10 clients)" 10 "$B/tiles/communes/10/506/358.pbf" "$TILE_LUA"
  done
  kill $APP_PID; wait $APP_PID 2>/dev/null || true

  # A full snapshot at a new date, on a copy (the measured database stays as it is).
  "${PSQL[@]}" -c "drop database if exists obs_bench_hist_import" -c "create database obs_bench_hist_import template $db"
  start=$(date +%s.%N)
  cli obs_bench_hist_import import-status data/odf/organisations-2022-10-19.csv --date 2026-01-15 --accepter-changement >/tmp/bench-history-import.log
  end=$(date +%s.%N)
  echo "  import d'un instantané complet (891 lignes, CLI, démarrage .NET compris) : $(echo "$end - $start" | bc) s"
  grep -m1 "lignes chargées" /tmp/bench-history-import.log | sed 's/^/    /'
  "${PSQL[@]}" -c "drop database obs_bench_hist_import"
done
echo "charge après : $(cut -d' ' -f1-3 /proc/loadavg)"
