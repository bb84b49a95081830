# Shared helpers for run.sh, test.sh, stop.sh and the benchmarks. Sourced, not executed.
# Everything here is idempotent: a second call finds what the first one installed or started.
set -euo pipefail

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PG_VERSION=15
PG_BIN="/usr/lib/postgresql/$PG_VERSION/bin"
: "${OBS_PG_PORT:=5433}"
: "${OBS_PGDATA:=$REPO/.pgdata}"

say()  { printf '\033[1;34m==>\033[0m %s\n' "$*" >&2; }
warn() { printf '\033[1;33m!!\033[0m %s\n' "$*" >&2; }
die()  { printf '\033[1;31mErreur :\033[0m %s\n' "$*" >&2; exit 1; }

# Run a command as root (apt) — directly when we are root, through sudo otherwise.
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

APT_UPDATED=0
apt_install() {
  # $@: Debian packages; installs only those missing (dpkg -s is fast, apt-get is not).
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update (une fois)…"
    as_root apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  say "Installation des paquets Debian : ${missing[*]} (une minute environ)…"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

ensure_postgis_packages() {
  apt_install "postgresql-$PG_VERSION-postgis-3" "postgresql-$PG_VERSION-postgis-3-scripts"
}

# The cluster belongs to the project: initdb refuses root, so as root it runs as the `postgres`
# OS user; as an ordinary user it simply runs as that user.
pg_run() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# postgres must be able to reach $OBS_PGDATA: a clone under /root (mode 700) is not reachable by the
# postgres user, so fall back to a directory under /var/tmp named after the checkout.
resolve_pgdata() {
  if [ "$(id -u)" = 0 ] && ! runuser -u postgres -- test -x "$(dirname "$OBS_PGDATA")" 2>/dev/null; then
    OBS_PGDATA="/var/tmp/observatoire-pgdata-$(printf '%s' "$REPO" | md5sum | cut -c1-8)"
    warn "Le dossier du dépôt n'est pas accessible à l'utilisateur postgres : données dans $OBS_PGDATA"
  fi
}

pg_is_up() { "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$OBS_PG_PORT" 2>/dev/null; }

ensure_cluster() {
  ensure_postgis_packages
  resolve_pgdata
  if [ ! -f "$OBS_PGDATA/PG_VERSION" ]; then
    say "Création du cluster PostgreSQL du projet dans $OBS_PGDATA (port $OBS_PG_PORT, 127.0.0.1 seulement)…"
    mkdir -p "$OBS_PGDATA"
    [ "$(id -u)" = 0 ] && chown postgres:postgres "$OBS_PGDATA"
    chmod 700 "$OBS_PGDATA"
    # trust on loopback only: the cluster listens on 127.0.0.1 and its own socket directory.
    pg_run "$PG_BIN/initdb" -D "$OBS_PGDATA" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >> "$OBS_PGDATA/postgresql.conf" <<CONF
# Observatoire: a small development cluster sized for a 2-core laptop.
listen_addresses = '127.0.0.1'
shared_buffers = 256MB
work_mem = 32MB
maintenance_work_mem = 256MB
max_connections = 100
# Durability: an acknowledged commit is on disk (a crash never loses it).
fsync = on
synchronous_commit = on
full_page_writes = on
jit = off
CONF
  fi
  # Is the server answering on $OBS_PG_PORT the project's? Only if the project's cluster runs (its
  # postmaster.pid names a live process) and listens on that very port (line 4 of postmaster.pid).
  local own_port=""
  if [ -f "$OBS_PGDATA/postmaster.pid" ] && kill -0 "$(head -1 "$OBS_PGDATA/postmaster.pid")" 2>/dev/null; then
    own_port=$(sed -n 4p "$OBS_PGDATA/postmaster.pid")
  fi
  if pg_is_up && [ "$own_port" != "$OBS_PG_PORT" ]; then
    die "le port $OBS_PG_PORT est déjà pris par un autre serveur PostgreSQL que celui du projet ($OBS_PGDATA) : choisissez-en un autre avec --pg-port (ou OBS_PG_PORT=…)."
  fi
  if [ -n "$own_port" ] && [ "$own_port" != "$OBS_PG_PORT" ]; then
    die "le cluster du projet ($OBS_PGDATA) tourne déjà sur le port $own_port : utilisez --pg-port $own_port, ou arrêtez-le (scripts/stop.sh) avant de changer de port."
  fi
  if ! pg_is_up; then
    say "Démarrage de PostgreSQL (port $OBS_PG_PORT)…"
    pg_run "$PG_BIN/pg_ctl" -D "$OBS_PGDATA" -l "$OBS_PGDATA/server.log" -w \
      -o "-p $OBS_PG_PORT -k $OBS_PGDATA" start >/dev/null \
      || die "PostgreSQL n'a pas démarré : voir $OBS_PGDATA/server.log"
  fi
}

# Clusters created before synchronous_commit = on was the default here still have "off" in their
# postgresql.conf: ALTER SYSTEM overrides it, and a reload (not a restart) applies it.
ensure_durable() {
  local v
  v=$(psql_admin -tAc 'show synchronous_commit' postgres 2>/dev/null || true)
  if [ -n "$v" ] && [ "$v" != on ]; then
    say "PostgreSQL : synchronous_commit = $v → on (ALTER SYSTEM + rechargement, sans redémarrage)…"
    psql_admin -c 'alter system set synchronous_commit = on' -c 'select pg_reload_conf()' postgres >/dev/null
  fi
}

stop_cluster() {
  resolve_pgdata
  if [ -f "$OBS_PGDATA/PG_VERSION" ] && pg_is_up; then
    pg_run "$PG_BIN/pg_ctl" -D "$OBS_PGDATA" -m fast -w stop >/dev/null
    say "PostgreSQL arrêté."
  else
    say "PostgreSQL n'était pas démarré."
  fi
}

psql_admin() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$OBS_PG_PORT" -U postgres "$@"; }

ensure_dotnet() {
  command -v dotnet >/dev/null || die "Le SDK .NET 10 est requis (https://dot.net) : 'dotnet' est introuvable."
}

ensure_node() {
  if ! command -v npm >/dev/null; then apt_install nodejs npm; fi
}

# Front-end packages (Leaflet…) from npm, copied into the app's static files by the build.
ensure_npm_packages() {
  ensure_node
  if [ ! -d "$REPO/wwwroot-assets/node_modules" ] || [ "$REPO/wwwroot-assets/package-lock.json" -nt "$REPO/wwwroot-assets/node_modules/.package-lock.json" ]; then
    say "npm ci (paquets du front-end)…"
    (cd "$REPO/wwwroot-assets" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}

# Release build of the app, skipped when no source is newer than the last build (so a second
# run.sh serves within seconds).
build_app() {
  local dll="$REPO/src/Observatoire/bin/Release/net10.0/Observatoire.dll"
  if [ -f "$dll" ] && [ -z "$(find "$REPO/src" "$REPO/migrations" "$REPO/wwwroot-assets" "$REPO/Directory.Packages.props" \
        -newer "$dll" -type f -not -path '*/bin/*' -not -path '*/obj/*' -not -path '*/node_modules/*' -print -quit 2>/dev/null)" ]; then
    return 0
  fi
  say "Compilation (dotnet build -c Release)…"
  dotnet build "$REPO/src/Observatoire/Observatoire.csproj" -c Release -nologo -v quiet -clp:ErrorsOnly \
    || die "la compilation a échoué"
}

# Benchmarks: the Release build serving database $1 (created, and loaded when empty) on 127.0.0.1:$2,
# its log in out/$3, stopped when the calling script exits. Sets APP (the DLL) and BASE (its URL).
# Settings for the run (ASP.NET Core's environment variables) are exported by the caller before.
start_bench_app() {
  local db="$1" port="$2" log="$REPO/out/$3"
  psql_admin -tAc "select 1 from pg_database where datname = '$db'" postgres | grep -q 1 || psql_admin -c "create database $db" postgres
  export ConnectionStrings__Observatoire="Host=127.0.0.1;Port=$OBS_PG_PORT;Username=postgres;Database=$db;Maximum Pool Size=20;Timeout=5"
  build_app
  APP="$REPO/src/Observatoire/bin/Release/net10.0/Observatoire.dll"
  dotnet "$APP" load-if-empty >/dev/null
  mkdir -p "$REPO/out"   # git-ignored: absent from a fresh clone
  say "Démarrage de l'application (Release) sur le port $port…"
  (cd "$REPO/src/Observatoire" && exec dotnet "$APP" --urls "http://127.0.0.1:$port" >"$log" 2>&1) &
  BENCH_APP_PID=$!
  trap 'kill $BENCH_APP_PID 2>/dev/null || true' EXIT
  BASE="http://127.0.0.1:$port"
  for _ in $(seq 1 60); do curl -sf "$BASE/health" >/dev/null && break; sleep 0.5; done
  curl -sf "$BASE/health" >/dev/null || die "l'application ne répond pas (voir out/$3)"
}
