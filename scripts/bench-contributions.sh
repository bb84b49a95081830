#!/usr/bin/env bash
# Contributions under load (issue #16), loopback, Release build: 4 ATD editors write observations
# (each within its perimeter, 4 connections) while 16 connections read what visitors read
# (indicators, progress, a to-do list, a card, default-view tiles), for --duration seconds (default 60);
# the reads alone first, for the same time, as the floor. Then how long until a write is visible:
# 10 writes, each followed by reads of /api/indicators and of the commune's tile until they change.
# The database is a fresh copy of obs_bench_map (loaded when empty) named obs_bench_contrib: the
# writes stay out of the other benchmarks. Prints a Markdown block for docs/benchmarks.md.
# Options: --port N (default 5482), --duration S.
source "$(dirname "$0")/lib.sh"

PORT=5482; DURATION=60
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    -h|--help) sed -n 2,9p "$0"; exit 0 ;;
    *) die "option inconnue : $1" ;;
  esac
done

ensure_dotnet; ensure_cluster; ensure_npm_packages
apt_install wrk
build_app
APP="$REPO/src/Observatoire/bin/Release/net10.0/Observatoire.dll"
# The template first (loaded and migrated), then a throw-away copy of it.
export ConnectionStrings__Observatoire="Host=127.0.0.1;Port=$OBS_PG_PORT;Username=postgres;Database=obs_bench_map"
psql_admin -tAc "select 1 from pg_database where datname = 'obs_bench_map'" postgres | grep -q 1 || psql_admin -c "create database obs_bench_map" postgres
dotnet "$APP" load-if-empty >/dev/null
psql_admin -c "drop database if exists obs_bench_contrib" -c "create database obs_bench_contrib template obs_bench_map" postgres >/dev/null
start_bench_app obs_bench_contrib "$PORT" bench-contributions-server.log

# Four ATD editors, each with the communes of its perimeter.
WRITES="$REPO/out/bench-contributions-writes.tsv"; : >"$WRITES"
for atd in rennes-metropole bretagne adico agate; do
  key=$(dotnet "$APP" keys create --name "banc $atd" --role atd-editor --atd "$atd" | tail -1)
  psql_admin -tA -d obs_bench_contrib -c "select collectivite_id from atd_coverage where atd_id = '$atd'" \
    | sed "s/^/$key\t/" >>"$WRITES"
done
ADMIN=$(dotnet "$APP" keys create --name "banc admin" --role admin | tail -1)

LUA="$REPO/scripts/bench-contributions/mixed.lua"
run() { # $1 class, $2 connections, $3 seconds
  CLASS="$1" WRITES="$WRITES" wrk -t "$(( $2 < 2 ? 1 : 2 ))" -c "$2" -d "${3}s" --timeout 30s -s "$LUA" "$BASE" | grep '^RESULT' | sed 's/^RESULT //'
}
field() { sed -n "s/.*$1=\([^ ]*\).*/\1/p" <<<"$2"; }

say "Échauffement…"
run read 4 5 >/dev/null; run write 2 3 >/dev/null
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
say "Lectures seules : 16 connexions, ${DURATION} s…"
READ_ALONE=$(run read 16 "$DURATION")
say "Lectures (16) et écritures de 4 éditeurs (4), ${DURATION} s…"
run write 4 "$DURATION" >"$REPO/out/bench-contributions-write.txt" &
W_PID=$!
READ_MIXED=$(run read 16 "$DURATION")
wait $W_PID
WRITE_MIXED=$(cat "$REPO/out/bench-contributions-write.txt")
SERVER_500=$(grep -c 'fail: Microsoft.AspNetCore' "$REPO/out/bench-contributions-server.log" || true)

say "Délai de visibilité d'une écriture (10 essais)…"
VIS=(); VIS_TILE=()
while IFS='|' read -r id x y; do
  tile="$BASE/tiles/communes/10/$x/$y.pbf"
  open0=$(curl -s "$BASE/api/indicators" | sed -n 's/.*"open":\([0-9]*\).*/\1/p')
  tag0=$(curl -s -D - -o /dev/null "$tile" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')
  start=$(date +%s%N)
  curl -sf -o /dev/null -X POST "$BASE/api/observations" -H "Authorization: Bearer $ADMIN" -H 'Content-Type: application/json' \
    -d "{\"collectivite\":\"$id\",\"observedOn\":\"$(date +%F)\",\"datasetsLocal\":3}" || die "écriture refusée ($id)"
  for _ in $(seq 1 200); do
    [ "$(curl -s "$BASE/api/indicators" | sed -n 's/.*"open":\([0-9]*\).*/\1/p')" != "$open0" ] && break
  done
  VIS+=($(( ($(date +%s%N) - start) / 1000000 )))
  for _ in $(seq 1 200); do
    [ "$(curl -s -D - -o /dev/null "$tile" | tr -d '\r' | sed -n 's/^[Ee][Tt]ag: //p')" != "$tag0" ] && break
  done
  VIS_TILE+=($(( ($(date +%s%N) - start) / 1000000 )))
done < <(psql_admin -tA -d obs_bench_contrib -c "
  select c.id, floor((st_x(g.label_point) + 180) / 360 * 1024)::int,
         floor((1 - ln(tan(radians(st_y(g.label_point))) + 1 / cos(radians(st_y(g.label_point)))) / pi()) / 2 * 1024)::int
    from collectivite c join collectivite_geometry g on g.collectivite_id = c.id
   where c.type = 'COM' and not c.is_open and c.population > 2000 order by c.population desc limit 10")
VIS_SORTED=$(printf '%s\n' "${VIS[@]}" | sort -n | tr '\n' ' ')
VIS_TILE_SORTED=$(printf '%s\n' "${VIS_TILE[@]}" | sort -n | tr '\n' ' ')

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }
CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
cat <<MD
Command: \`scripts/bench-contributions.sh --duration $DURATION\` (database obs_bench_contrib, a copy of obs_bench_map; Release build, loopback, wrk).
Machine: $(nproc) cores ($CPU); load average when the measures started $LOAD_START, at the end $(cut -d' ' -f1-3 /proc/loadavg).

| run | class | connections | requests | req/s | p50 ms | p95 ms | p99 ms | statuses |
|---|---|---|---|---|---|---|---|---|
| reads alone (floor) | read | 16 | $(field requests "$READ_ALONE") | $(field rps "$READ_ALONE") | $(field p50_ms "$READ_ALONE") | $(field p95_ms "$READ_ALONE") | $(field p99_ms "$READ_ALONE") | $(field statuses "$READ_ALONE") |
| mixed | read | 16 | $(field requests "$READ_MIXED") | $(field rps "$READ_MIXED") | $(field p50_ms "$READ_MIXED") | $(field p95_ms "$READ_MIXED") | $(field p99_ms "$READ_MIXED") | $(field statuses "$READ_MIXED") |
| mixed | write (4 editors) | 4 | $(field requests "$WRITE_MIXED") | $(field rps "$WRITE_MIXED") | $(field p50_ms "$WRITE_MIXED") | $(field p95_ms "$WRITE_MIXED") | $(field p99_ms "$WRITE_MIXED") | $(field statuses "$WRITE_MIXED") |

Read p95 under writes: $(ratio "$(field p95_ms "$READ_MIXED")" "$(field p95_ms "$READ_ALONE")")× the reads alone. Server errors logged (fail: Microsoft.AspNetCore): $SERVER_500.
A write visible (ms from the POST to the first read showing it, 10 writes, sorted): /api/indicators $VIS_SORTED; the commune's z10 tile (new ETag) $VIS_TILE_SORTED
MD
