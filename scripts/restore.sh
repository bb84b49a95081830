#!/usr/bin/env bash
# Restores a scripts/backup.sh file into a database, in one transaction: the database ends complete
# or untouched. Refuses a database that already holds tables unless --replace is given.
source "$(dirname "$0")/lib.sh"

usage() {
  cat <<USAGE
Usage : scripts/restore.sh FICHIER [--database NOM] [--pg-port PORT] [--replace]
  FICHIER          sauvegarde écrite par scripts/backup.sh
  --database NOM   base de destination (défaut : observatoire), créée si elle n'existe pas
  --pg-port PORT   port du serveur PostgreSQL (défaut : $OBS_PG_PORT, 127.0.0.1)
  --replace        supprime et recrée la base si elle existe déjà (arrêtez d'abord l'application)
USAGE
}

FILE=""; DB=observatoire; REPLACE=0
while [ $# -gt 0 ]; do
  case "$1" in
    --database) DB="${2:?}"; shift 2 ;;
    --pg-port) OBS_PG_PORT="${2:?}"; shift 2 ;;
    --replace) REPLACE=1; shift ;;
    -h|--help) usage; exit 0 ;;
    -*) usage >&2; die "option inconnue : $1" ;;
    *) FILE="$1"; shift ;;
  esac
done
[ -n "$FILE" ] || { usage >&2; die "indiquez le fichier de sauvegarde."; }
[ -f "$FILE" ] || die "fichier introuvable : $FILE"
[[ "$DB" =~ ^[a-z_][a-z0-9_]*$ ]] || die "nom de base invalide : $DB (minuscules, chiffres, _)."
pg_is_up || die "PostgreSQL ne répond pas sur 127.0.0.1:$OBS_PG_PORT."
"$PG_BIN/pg_restore" --list "$FILE" >/dev/null 2>&1 || die "$FILE n'est pas une sauvegarde pg_dump lisible."

exists=$(psql_admin -tAc "select 1 from pg_database where datname = '$DB'" postgres)
if [ "$exists" = 1 ]; then
  if [ "$REPLACE" = 1 ]; then
    say "Suppression de la base « $DB » (--replace)…"
    psql_admin -c "drop database \"$DB\" with (force)" postgres
  elif [ "$(psql_admin -tAc "select count(*) from pg_tables where schemaname = 'public'" "$DB")" != 0 ]; then
    die "la base « $DB » contient déjà des tables : choisissez une autre base (--database) ou --replace."
  fi
fi
[ "$exists" = 1 ] && [ "$REPLACE" = 0 ] || psql_admin -c "create database \"$DB\"" postgres

say "Restauration de $FILE dans « $DB » (une transaction)…"
"$PG_BIN/pg_restore" -h 127.0.0.1 -p "$OBS_PG_PORT" -U postgres -d "$DB" --no-owner --no-privileges \
  --single-transaction --exit-on-error "$FILE"
# Backups carry no privileges: the role the contributions are written with gets its grants back.
psql_admin -tAc "select grant_contribution_role() from pg_proc where proname = 'grant_contribution_role'" "$DB" >/dev/null
psql_admin -c "analyze" "$DB"
say "Restauration terminée : base « $DB »."
