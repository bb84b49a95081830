#!/usr/bin/env bash
# Benchmark of issue #3 (docs/benchmarks.md, "Statut et indicateurs"): status import (both ODF
# snapshots) + ATD coverage, timed from a database holding only the reference list; then the national
# indicators for one date, uncached, against the bare SQL floor measured in the same run.
# Usage : scripts/bench-status.sh   (base obs_bench_status, créée et chargée au premier lancement)
source "$(dirname "$0")/lib.sh"
ensure_dotnet
ensure_cluster
DB="${OBS_BENCH_DB:-obs_bench_status}"
export ConnectionStrings__Observatoire="Host=127.0.0.1;Port=$OBS_PG_PORT;Username=postgres;Database=$DB"
PSQL=(psql -q -h 127.0.0.1 -p "$OBS_PG_PORT" -U postgres)
"${PSQL[@]}" -tc "select 1 from pg_database where datname = '$DB'" | grep -q 1 || "${PSQL[@]}" -c "create database $DB"

say "Compilation (Release)…"
dotnet build "$REPO/src/Observatoire" -c Release -nologo -v q >/dev/null
APP=(dotnet "$REPO/src/Observatoire/bin/Release/net10.0/Observatoire.dll")
cd "$REPO"
say "Référentiel (ignoré s'il est déjà chargé)…"
"${APP[@]}" import >/dev/null

say "Remise à zéro des statuts et des ATD…"
"${PSQL[@]}" -d "$DB" -c "delete from observation; delete from status_snapshot; delete from associated_actor; delete from atd; delete from data_release where kind in ('status','atd');"

echo "machine : $(nproc) cœurs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), mémoire $(free -h | awk '/Mem:/ {print $2}'), charge $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
"${APP[@]}" import-status data/odf/organisations-2022-04-25.csv --date 2022-04-25 | grep -E "^Instantané"
"${APP[@]}" import-status data/odf/organisations-2022-10-19.csv --date 2022-10-19 | grep -E "^Instantané"
"${APP[@]}" import-atd | grep -E "^Registre"
end=$(date +%s.%N)
printf 'import des statuts + couverture ATD (3 commandes, démarrage .NET compris) : %.1f s (objectif < 20 s)\n' "$(echo "$end - $start" | bc)"

"${PSQL[@]}" -d "$DB" -c "vacuum analyze collectivite" -c "vacuum analyze observation"
"${APP[@]}" bench-indicators --runs 30
"${APP[@]}" bench-indicators --date 2022-06-01 --runs 30
