#!/usr/bin/env bash
# Installs what is missing, starts the project's PostGIS, migrates, loads the bundled data when the
# database is empty, and serves the Observatoire at http://127.0.0.1:5080.
source "$(dirname "$0")/lib.sh"

usage() {
  cat <<USAGE
Usage : scripts/run.sh [options]

Démarre l'Observatoire open data des territoires sur http://127.0.0.1:PORT.

  --port N          port HTTP de l'application (défaut : 5080)
  --pg-port N       port du cluster PostgreSQL du projet (défaut : 5433, 127.0.0.1 seulement)
  --database CS     utiliser une base PostGIS existante (chaîne de connexion Npgsql,
                    ex. "Host=db;Username=obs;Password=…;Database=observatoire") au lieu du cluster du projet
  --reload          recharger les données livrées même si la base en contient déjà
  --no-serve        tout préparer (installation, base, données) sans lancer le serveur
  -h, --help        cette aide

Arrêter la base du projet : scripts/stop.sh. Les données PostgreSQL sont dans .pgdata/ (ignoré par git).
USAGE
}

PORT=5080; DATABASE=""; RELOAD=0; SERVE=1
while [ $# -gt 0 ]; do
  case "$1" in
    --port) PORT="${2:?--port attend un numéro}"; shift 2 ;;
    --pg-port) OBS_PG_PORT="${2:?--pg-port attend un numéro}"; shift 2 ;;
    --database) DATABASE="${2:?--database attend une chaîne de connexion}"; shift 2 ;;
    --reload) RELOAD=1; shift ;;
    --no-serve) SERVE=0; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "option inconnue : $1" ;;
  esac
done

ensure_dotnet
ensure_npm_packages
if [ -z "$DATABASE" ]; then
  ensure_cluster
  ensure_durable
  psql_admin -tAc "select 1 from pg_database where datname = 'observatoire'" postgres | grep -q 1 \
    || { say "Création de la base « observatoire »…"; psql_admin -c "create database observatoire" postgres; }
  DATABASE="Host=127.0.0.1;Port=$OBS_PG_PORT;Username=postgres;Database=observatoire;Maximum Pool Size=20;Timeout=5"
  # Remembered for the command line (git-ignored): a later `dotnet run --project src/Observatoire -- …`
  # uses this database, --pg-port included. A --database string is not written down (it may hold a password).
  printf '{ "ConnectionStrings": { "Observatoire": "%s" } }\n' "$DATABASE" > "$REPO/src/Observatoire/appsettings.Local.json"
fi
export ConnectionStrings__Observatoire="$DATABASE"

build_app
APP="$REPO/src/Observatoire/bin/Release/net10.0/Observatoire.dll"

if [ "$RELOAD" = 1 ]; then
  say "Rechargement des données livrées…"
  dotnet "$APP" import --force --data "$REPO/data"
else
  say "Migrations et données…"
  dotnet "$APP" load-if-empty
fi

[ "$SERVE" = 1 ] || { say "Prêt (--no-serve)."; exit 0; }
say "Observatoire : http://127.0.0.1:$PORT  (Ctrl-C pour arrêter)"
cd "$REPO/src/Observatoire"
exec dotnet "$APP" --urls "http://127.0.0.1:$PORT"
