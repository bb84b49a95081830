#!/usr/bin/env bash
# Backs up the observatoire database with pg_dump (custom format: compressed, restorable table by
# table, PostGIS extension included). Restore with scripts/restore.sh.
# gzip level 1: on the loaded base 3.0 CPU-s for 68 MB, where level 6 took 7.6 CPU-s for 58 MB (2026-12-01):
# the geometries hardly compress further, and the dump holds its snapshot for less time.
source "$(dirname "$0")/lib.sh"

usage() {
  cat <<USAGE
Usage : scripts/backup.sh [--database NOM] [--pg-port PORT] [--out FICHIER]
  --database NOM   base à sauvegarder (défaut : observatoire)
  --pg-port PORT   port du serveur PostgreSQL (défaut : $OBS_PG_PORT, 127.0.0.1)
  --out FICHIER    fichier de sauvegarde (défaut : backups/observatoire-AAAAMMJJ-HHMMSS.dump)
USAGE
}

DB=observatoire
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --database) DB="${2:?}"; shift 2 ;;
    --pg-port) OBS_PG_PORT="${2:?}"; shift 2 ;;
    --out) OUT="${2:?}"; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; die "option inconnue : $1" ;;
  esac
done
[ -n "$OUT" ] || OUT="$REPO/backups/$DB-$(date -u +%Y%m%d-%H%M%S).dump"
mkdir -p "$(dirname "$OUT")"
pg_is_up || die "PostgreSQL ne répond pas sur 127.0.0.1:$OBS_PG_PORT."

say "Sauvegarde de « $DB » vers $OUT…"
# The server's own major version of pg_dump (a newer client would write a format an older pg_restore refuses).
"$PG_BIN/pg_dump" -h 127.0.0.1 -p "$OBS_PG_PORT" -U postgres -d "$DB" --format=custom --compress=1 \
  --no-owner --no-privileges --file="$OUT.part"
mv "$OUT.part" "$OUT"   # a dump interrupted half-way never looks complete
say "Sauvegarde terminée : $OUT ($(du -h "$OUT" | cut -f1))."
echo "$OUT"
