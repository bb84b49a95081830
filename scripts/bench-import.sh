#!/usr/bin/env bash
# Benchmark of the reference import (issue #2): full first import (reference list, boundaries,
# unions, simplification) into an empty database, time and peak memory; in the same run, the
# floor a GIS user would reach for: ogr2ogr loading the same communes file into PostGIS.
# Then: scripts/run.sh on an already loaded database, time until the first request is served.
# Usage: scripts/bench-import.sh   (prints a Markdown table to paste into docs/benchmarks.md)
source "$(dirname "$0")/lib.sh"
ensure_dotnet; ensure_cluster; apt_install gdal-bin time bc curl
build_app
APP="$REPO/src/Observatoire/bin/Release/net10.0/Observatoire.dll"
DB=obs_bench_import
CS="Host=127.0.0.1;Port=$OBS_PG_PORT;Username=postgres;Database=$DB"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"; psql_admin -c "drop database if exists $DB with (force)" postgres >/dev/null 2>&1 || true' EXIT

psql_admin -c "drop database if exists $DB with (force)" postgres >/dev/null
psql_admin -c "create database $DB" postgres >/dev/null
ConnectionStrings__Observatoire="$CS" dotnet "$APP" migrate >/dev/null

say "1. import complet (dotnet $APP import)…"
ConnectionStrings__Observatoire="$CS" /usr/bin/time -f '%e %M' -o "$TMP/ours" dotnet "$APP" import --force --data "$REPO/data" > "$TMP/ours.log"
read -r ours_s ours_kb < "$TMP/ours"

say "2. plancher : ogr2ogr du même fichier de communes…"
gunzip -c "$REPO/data/geo/communes-2018.geojson.gz" > "$TMP/communes.geojson"
psql_admin -c "create extension if not exists postgis" "$DB" >/dev/null
/usr/bin/time -f '%e %M' -o "$TMP/ogr" ogr2ogr -f PostgreSQL "PG:host=127.0.0.1 port=$OBS_PG_PORT user=postgres dbname=$DB" \
  "$TMP/communes.geojson" -nln ogr_communes -lco GEOMETRY_NAME=geom -nlt PROMOTE_TO_MULTI -overwrite
read -r ogr_s ogr_kb < "$TMP/ogr"


say "3. scripts/run.sh sur une base déjà chargée : délai jusqu'à la première réponse…"
PORT=5099
start=$(date +%s.%N)
"$REPO/scripts/run.sh" --port $PORT --database "$CS" > "$TMP/run.log" 2>&1 &
RUN_PID=$!
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null 2>&1; do sleep 0.1; done
first=$(echo "$(date +%s.%N) - $start" | bc)
kill $RUN_PID 2>/dev/null; wait $RUN_PID 2>/dev/null || true

cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)
echo
echo "Machine : $(nproc) cœurs, $(free -h | awk '/Mem:/{print $2}') RAM, $cpu, PostgreSQL 15 + PostGIS 3.3 local"
echo
echo "| mesure | temps | mémoire max | ratio |"
echo "|---|---|---|---|"
printf '| import complet (référentiel, contours, unions, simplification) | %.1f s | %d Mo | %.1f× ogr2ogr |\n' "$ours_s" $((ours_kb/1024)) "$(echo "$ours_s / $ogr_s" | bc -l)"
printf '| ogr2ogr, communes seules (plancher) | %.1f s | %d Mo | 1 |\n' "$ogr_s" $((ogr_kb/1024))
printf '| scripts/run.sh, base chargée → première réponse /health | %.1f s | | |\n' "$first"
echo
echo "Étapes de l'import :"
grep -E "unions et réparations|simplification :|communes :|chargé en" "$TMP/ours.log" | sed 's/^/    /'
