#!/usr/bin/env bash
# Benchmark of the map endpoints (issue #5), on loopback against the Release build:
#   1. départements GeoJSON at national zoom: size, uncached and cached latency;
#   2. commune vector tiles at z10 and z8 under 10 concurrent clients, output cache bypassed: the
#      default view (served from the tile store, map_tile) and a filtered view (rendered by PostGIS
#      on request); p95, tile sizes;
#   3. each endpoint against the bare SQL producing the same bytes (the floor), checked byte for byte:
#      the store's primary-key read, and the rendering statement the store saves;
#   4. the page in Chromium: time to first choropleth, the table's first page, each filter change,
#      a date change (scripts/bench-map/page-interactions.js).
# Prints a Markdown block for docs/benchmarks.md. Options: --database NAME (default obs_bench_map,
# loaded when empty), --port N (default 5187), --duration S (wrk/pgbench seconds per run, default 10).
source "$(dirname "$0")/lib.sh"

DB=obs_bench_map; PORT=5187; DURATION=10
while [ $# -gt 0 ]; do
  case "$1" in
    --database) DB="$2"; shift 2 ;;
    --port) PORT="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    -h|--help) sed -n 2,9p "$0"; exit 0 ;;
    *) die "option inconnue : $1" ;;
  esac
done

ensure_dotnet; ensure_cluster; ensure_npm_packages
apt_install wrk chromium postgresql-contrib
command -v pgbench >/dev/null || PATH="$PG_BIN:$PATH"
export Map__HonourClientNoCache=true   # MODE=nocache measures the uncached path
export RateLimits__PerClient=false     # wrk is one client: measure the endpoints, not the per-client limits
start_bench_app "$DB" "$PORT" bench-map-server.log

HERE="$REPO/scripts/bench-map"; TMP="$(mktemp -d)"
PSQL=(psql -X -q -h 127.0.0.1 -p "$OBS_PG_PORT" -U postgres -d "$DB")
wrk_run() { # $1 connections, $2 url, then env for report.lua
  local c="$1" url="$2"; shift 2
  env "$@" wrk -t "$(( c < 2 ? 1 : 2 ))" -c "$c" -d "${DURATION}s" -s "$HERE/report.lua" "$url" | grep '^RESULT' | sed 's/^RESULT //'
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" <<<"$2"; }
pgbench_run() { # $1 clients, $2 script, then -D definitions; prints mean and p95 (ms) from the per-transaction log
  local c="$1" script="$2"; shift 2
  (cd "$TMP" && rm -f pgbench_log.* && pgbench -n -h 127.0.0.1 -p "$OBS_PG_PORT" -U postgres -c "$c" -j "$(( c < 2 ? 1 : 2 ))" -T "$DURATION" -l "$@" -f "$script" "$DB" >/dev/null)
  cat "$TMP"/pgbench_log.* | awk '{print $3/1000}' | sort -n | awk '{a[NR]=$1; s+=$1} END {i=int(NR*0.95); if (i<1) i=1; printf "requests=%d mean_ms=%.2f p95_ms=%.2f\n", NR, s/NR, a[i]}'
}
tiles_range() { # z → "z xmin xmax ymin ymax" covering metropolitan France (lon -5.2..9.6, lat 41.3..51.1)
  python3 - "$1" <<'PY'
import math, sys
z = int(sys.argv[1]); n = 2 ** z
tx = lambda lon: int((lon + 180) / 360 * n)
ty = lambda lat: int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
print(z, tx(-5.2), tx(9.6), ty(51.1), ty(41.3))
PY
}

# Warm-up (JIT, plans, PostgreSQL buffers).
for _ in 1 2 3; do curl -s -o /dev/null "$BASE/api/geo/departements?zoom=5&_=warm$RANDOM"; curl -s -o /dev/null "$BASE/tiles/communes/10/505/355.pbf?_=warm$RANDOM"; done

# Let the build's load settle (at most 60 s): the 1-minute load average is printed with the results.
for _ in $(seq 12); do awk '{exit !($1 < 1.0)}' /proc/loadavg && break; sleep 5; done
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
say "1. Départements, zoom national…"
DEP_URL="$BASE/api/geo/departements?zoom=5"
curl -s -o "$TMP/dep.json" "$DEP_URL"
DEP_BYTES=$(stat -c %s "$TMP/dep.json")
DEP_GZ=$(curl -s -H 'Accept-Encoding: gzip' "$DEP_URL" | wc -c)
DEP_BR=$(curl -s -H 'Accept-Encoding: br' "$DEP_URL" | wc -c)
{ echo "select md5(t.doc) from ("; grep -v '^--' "$HERE/departements.sql"; echo ") t;"; } > "$TMP/dep-md5.sql"
[ "$("${PSQL[@]}" -At -f "$TMP/dep-md5.sql")" = "$(md5sum < "$TMP/dep.json" | cut -d' ' -f1)" ] \
  || die "departements.sql ne produit plus les octets de l'endpoint : mettez-le à jour depuis GeoEndpoints.cs"
DEP_UNCACHED=$(wrk_run 1 "$DEP_URL" MODE=nocache)
DEP_CACHED=$(wrk_run 1 "$DEP_URL" MODE=fixed)
DEP_CACHED10=$(wrk_run 10 "$DEP_URL" MODE=fixed)
{ grep -v '^--' "$HERE/departements.sql"; echo ";"; } > "$TMP/dep.sql"
DEP_SQL=$(pgbench_run 1 "$TMP/dep.sql")

say "2. Tuiles des communes sous 10 clients…"
declare -A T_HTTP T_SQL T_RENDER T_FHTTP T_FSQL T_MAXB T_P95B T_N
RELEASE=$("${PSQL[@]}" -At -c "select max(release) from map_tile_seed")
[ -n "$RELEASE" ] || die "aucune tuile pré-calculée dans $DB (map_tile_seed vide) : lancez « dotnet $APP load-if-empty »"
for z in 10 8; do
  read -r _ xmin xmax ymin ymax <<<"$(tiles_range $z)"
  col=$([ "$z" -ge 10 ] && echo geom || echo geom_mid)
  # Byte-for-byte check on the tile over Rennes.
  rx=$(python3 -c "import math;print(int((-1.68+180)/360*2**$z))"); ry=$(python3 -c "import math;print(int((1-math.asinh(math.tan(math.radians(48.11)))/math.pi)/2*2**$z))")
  curl -s -o "$TMP/t.pbf" "$BASE/tiles/communes/$z/$rx/$ry.pbf"
  { echo "select md5(t.tile) from ("; grep -v '^--' "$HERE/tile.sql"; echo ") t;"; } > "$TMP/tile-md5.sql"
  names=$([ "$z" -ge 9 ] && echo ", name" || echo "")
  [ "$("${PSQL[@]}" -At -v z="$z" -v x="$rx" -v y="$ry" -v col="$col" -v names="$names" -f "$TMP/tile-md5.sql")" = "$(md5sum < "$TMP/t.pbf" | cut -d' ' -f1)" ] \
    || die "tile.sql ne produit plus les octets de l'endpoint (z$z) : mettez-le à jour depuis TileEndpoints.cs"
  [ "$("${PSQL[@]}" -At -c "select md5(mvt) from map_tile where release = $RELEASE and layer = 'communes' and z = $z and x = $rx and y = $ry")" = "$(md5sum < "$TMP/t.pbf" | cut -d' ' -f1)" ] \
    || die "la tuile stockée (map_tile) n'a pas les octets de l'endpoint (z$z)"
  DURATION=3 wrk_run 10 "$BASE/" MODE=nocache TILES="$z $xmin $xmax $ymin $ymax" >/dev/null   # warm-up (JIT, buffers)
  T_HTTP[$z]=$(wrk_run 10 "$BASE/" MODE=nocache TILES="$z $xmin $xmax $ymin $ymax")
  { echo "\\set x random($xmin, $xmax)"; echo "\\set y random($ymin, $ymax)";
    echo "select mvt from map_tile where release = $RELEASE and layer = 'communes' and z = :z and x = :x and y = :y;"; } > "$TMP/store-$z.sql"
  T_SQL[$z]=$(pgbench_run 10 "$TMP/store-$z.sql" -M prepared -D z="$z")
  { echo "\\set x random($xmin, $xmax)"; echo "\\set y random($ymin, $ymax)"; grep -v '^--' "$HERE/tile.sql" | sed "s/:col/$col/g; s/:names/$names/g"; echo ";"; } > "$TMP/tile-$z.sql"
  T_RENDER[$z]=$(pgbench_run 10 "$TMP/tile-$z.sql" -D z="$z")
  # A filtered view is never stored: rendered on request (obliged communes only).
  T_FHTTP[$z]=$(wrk_run 10 "$BASE/" MODE=nocache TILES="$z $xmin $xmax $ymin $ymax" QUERY="obliged=true")
  sed "s/where c.type = 'COM' and/where c.type = 'COM' and c.is_obliged and/" "$TMP/tile-$z.sql" > "$TMP/ftile-$z.sql"
  T_FSQL[$z]=$(pgbench_run 10 "$TMP/ftile-$z.sql" -D z="$z")
  # Sizes: every tile of the range at z8 (a few hundred); a 400-tile sample at z10.
  : > "$TMP/sizes"
  if [ "$z" = 8 ]; then
    for x in $(seq "$xmin" "$xmax"); do for y in $(seq "$ymin" "$ymax"); do echo "$x $y"; done; done > "$TMP/list"
  else
    python3 -c "import random; random.seed(5); [print(random.randint($xmin,$xmax), random.randint($ymin,$ymax)) for _ in range(400)]" > "$TMP/list"
  fi
  while read -r x y; do curl -s -o /dev/null -w '%{size_download}\n' "$BASE/tiles/communes/$z/$x/$y.pbf" >> "$TMP/sizes"; done < "$TMP/list"
  T_N[$z]=$(awk '$1>0' "$TMP/sizes" | wc -l)
  T_MAXB[$z]=$(sort -n "$TMP/sizes" | tail -1)
  T_P95B[$z]=$(awk '$1>0' "$TMP/sizes" | sort -n | awk '{a[NR]=$1} END {i=int(NR*0.95); if (i<1) i=1; print a[i]}')
done

say "3. Temps jusqu'à la première choroplèthe (Chromium)…"
PW="$REPO/tests/Observatoire.Tests/bin/Debug/net10.0/.playwright"
if [ ! -d "$PW/package" ]; then dotnet build "$REPO/tests/Observatoire.Tests" -nologo -v quiet -clp:ErrorsOnly >/dev/null; fi
FIRST=$("$PW/node/linux-x64/node" "$HERE/first-choropleth.js" "$PW/package" "$BASE/" 5 | grep '^RESULT' | sed 's/^RESULT //')
PAGE=$("$PW/node/linux-x64/node" "$HERE/page-interactions.js" "$PW/package" "$BASE/" 5 | grep '^RESULT' | sed 's/^RESULT //')
page_field() { grep "^$1 " <<<"$PAGE" | sed -n "s/.*$2=\([0-9.]*\).*/\1/p"; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "—" }'; }
kb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1024 }'; }
CPU=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
MEM=$(free -h | awk '/^Mem:/ {print $2}')
cat <<MD

### Run of $(date -u +%Y-%m-%d) — \`scripts/bench-map.sh --duration $DURATION\`

Machine: $(nproc) cores ($CPU), $MEM RAM; load average (1, 5, 15 min) when the measures started $LOAD_START, when they ended $(cut -d' ' -f1-3 /proc/loadavg) (the bench's own load counts). PostgreSQL $(psql_admin -tAc 'show server_version' postgres), Release build, loopback.

| measure | result | goal |
|---|---|---|
| départements GeoJSON, zoom 5: size (identity / gzip / br) | $(kb "$DEP_BYTES") KiB / $(kb "$DEP_GZ") KiB / $(kb "$DEP_BR") KiB | ≤ 250 KB |
| départements, uncached (1 client): mean / p95 | $(field mean_ms "$DEP_UNCACHED") ms / $(field p95_ms "$DEP_UNCACHED") ms | ≤ 20 ms |
| départements, bare SQL (pgbench, same bytes): mean / p95 | $(field mean_ms "$DEP_SQL") ms / $(field p95_ms "$DEP_SQL") ms | floor |
| départements, ratio endpoint / SQL (mean) | $(ratio "$(field mean_ms "$DEP_UNCACHED")" "$(field mean_ms "$DEP_SQL")") | |
| départements, cached (1 client): mean / p95 | $(field mean_ms "$DEP_CACHED") ms / $(field p95_ms "$DEP_CACHED") ms | ≤ 1 ms |
| départements, cached (10 clients): p95 / throughput | $(field p95_ms "$DEP_CACHED10") ms / $(field rps "$DEP_CACHED10") req/s | |
| commune tiles z10, 10 clients, default view (tile store): mean / p95 | $(field mean_ms "${T_HTTP[10]}") ms / $(field p95_ms "${T_HTTP[10]}") ms | p95 ≤ 5 ms |
| z10 floor: the store's read (pgbench, prepared), 10 clients: mean / p95; ratio (mean) | $(field mean_ms "${T_SQL[10]}") ms / $(field p95_ms "${T_SQL[10]}") ms; $(ratio "$(field mean_ms "${T_HTTP[10]}")" "$(field mean_ms "${T_SQL[10]}")") | |
| z10 rendering by PostGIS (what the store saves), 10 clients: mean / p95 | $(field mean_ms "${T_RENDER[10]}") ms / $(field p95_ms "${T_RENDER[10]}") ms | |
| z10 filtered view (obliged=true, rendered on request), 10 clients: mean / p95; its SQL: mean / p95 | $(field mean_ms "${T_FHTTP[10]}") ms / $(field p95_ms "${T_FHTTP[10]}") ms; $(field mean_ms "${T_FSQL[10]}") ms / $(field p95_ms "${T_FSQL[10]}") ms | |
| commune tiles z10: p95 / max size (of ${T_N[10]} non-empty tiles sampled) | $(kb "${T_P95B[10]}") KiB / $(kb "${T_MAXB[10]}") KiB | |
| commune tiles z8, 10 clients, default view (tile store): mean / p95 | $(field mean_ms "${T_HTTP[8]}") ms / $(field p95_ms "${T_HTTP[8]}") ms | p95 ≤ 40 ms |
| z8 floor: the store's read, 10 clients: mean / p95; ratio (mean) | $(field mean_ms "${T_SQL[8]}") ms / $(field p95_ms "${T_SQL[8]}") ms; $(ratio "$(field mean_ms "${T_HTTP[8]}")" "$(field mean_ms "${T_SQL[8]}")") | |
| z8 rendering by PostGIS, 10 clients: mean / p95 | $(field mean_ms "${T_RENDER[8]}") ms / $(field p95_ms "${T_RENDER[8]}") ms | |
| z8 filtered view (obliged=true, rendered on request), 10 clients: mean / p95; its SQL: mean / p95 | $(field mean_ms "${T_FHTTP[8]}") ms / $(field p95_ms "${T_FHTTP[8]}") ms; $(field mean_ms "${T_FSQL[8]}") ms / $(field p95_ms "${T_FSQL[8]}") ms | |
| commune tiles z8: p95 / max size (all ${T_N[8]} non-empty tiles of France) | $(kb "${T_P95B[8]}") KiB / $(kb "${T_MAXB[8]}") KiB | ≤ 100 KB |
| time to first choropleth (Chromium, cold cache, 1280×800), median of 5 (min–max) | $(field median_ms "$FIRST") ms ($(field min_ms "$FIRST")–$(field max_ms "$FIRST") ms) | < 1 s |
| table of collectivités, first page (OData request to rows drawn), median / max of 5 | $(page_field table median_ms) ms / $(page_field table max_ms) ms | < 300 ms |
| filter change, table page and choropleth both redrawn, median / max of 20 | $(page_field filter median_ms) ms / $(page_field filter max_ms) ms | < 300 ms |
| date change, choropleth redrawn, median / max of 10 | $(page_field date median_ms) ms / $(page_field date max_ms) ms | < 500 ms |

Raw: départements uncached \`$DEP_UNCACHED\`; cached \`$DEP_CACHED\`; SQL \`$DEP_SQL\`; z10 \`${T_HTTP[10]}\` / store \`${T_SQL[10]}\` / render \`${T_RENDER[10]}\`; z8 \`${T_HTTP[8]}\` / store \`${T_SQL[8]}\` / render \`${T_RENDER[8]}\`; browser \`$FIRST\`; page \`$(tr '\n' ' ' <<<"$PAGE")\`.
MD
rm -rf "$TMP"
