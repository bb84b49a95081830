#!/usr/bin/env bash
# Runs every test against a real PostGIS (the project's loopback cluster): the bundled data is loaded
# once per run into template databases and each fixture works on a copy, dropped at the end
# (tests/Observatoire.Tests/Infrastructure/TemplateDatabases.cs); test classes run in parallel.
# First the layout check of .editorconfig. Last line: "N passed, N failed, N skipped" (a failed
# format check counts as one failure, and so does an error logged by the service: « fail: »).
# Exit non-zero on any failure or when no test ran.
source "$(dirname "$0")/lib.sh"

case "${1:-}" in
  -h|--help) echo "Usage : scripts/test.sh [filtre dotnet test, ex. FullyQualifiedName~Reference]"; exit 0 ;;
esac

ensure_dotnet
ensure_cluster
ensure_npm_packages
# Browser tests of the map (Playwright drives Debian's Chromium headless shell, as Playwright does by default
# for headless runs; it cannot download its own browsers here).
apt_install chromium-headless-shell
# Reports: the PDF font (DejaVu Sans) and poppler (pdftoppm/pdftotext) for the report tests.
apt_install fonts-dejavu-core poppler-utils
# The test host and the tools it starts run without .NET's W^X protection (compiled code written through a
# second, writable mapping of its memory), a guard against code injection that a test run on loopback does
# not need; the service keeps it. The OData classes: 76 CPU-s instead of 82–91 (docs/benchmarks.md).
export DOTNET_EnableWriteXorExecute=0
# A generation-0 budget of 64 MB for the test host (the runtime sizes it from the CPU cache, a few MB here): it
# allocates about 16 GB in a run, and fewer, larger gen-0 collections halved its GC pauses (28 → 14-15 s in
# GC.GetTotalPauseDuration over a full run, docs/benchmarks.md). The service keeps the runtime's default.
export DOTNET_GCgen0size=0x4000000
export OBS_TEST_ADMIN_CONNECTION="Host=127.0.0.1;Port=$OBS_PG_PORT;Username=postgres;Database=postgres"
export OBS_REPO="$REPO"

RESULTS="$REPO/out/test-results"
rm -rf "$RESULTS"; mkdir -p "$RESULTS"
FILTER=()
[ -n "${1:-}" ] && FILTER=(--filter "$1")

# The layout of .editorconfig (whitespace, usings order), checked without building; a difference
# fails the run (fix it with: dotnet format whitespace --folder).
say "dotnet format whitespace --folder --verify-no-changes…"
format_ok=1
dotnet format whitespace "$REPO" --folder --verify-no-changes -v q \
  || { warn "le code n'est pas au format de .editorconfig : dotnet format whitespace --folder"; format_ok=0; }

say "dotnet test…"
set +e
dotnet test "$REPO/Observatoire.sln" -nologo "${FILTER[@]}" \
  --logger "trx;LogFilePrefix=results" --logger "console;verbosity=normal" --results-directory "$RESULTS" \
  2>&1 | tee "$RESULTS/console.log"
status=${PIPESTATUS[0]}
set -e

passed=0; failed=0; skipped=0; total=0
for f in "$RESULTS"/*.trx; do
  [ -f "$f" ] || continue
  line=$(grep -o '<Counters [^>]*>' "$f" | head -1)
  get() { printf '%s' "$line" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  t=$(get total); e=$(get executed); p=$(get passed); fl=$(get failed); er=$(get error); to=$(get timeout)
  total=$((total + ${t:-0})); passed=$((passed + ${p:-0}))
  failed=$((failed + ${fl:-0} + ${er:-0} + ${to:-0}))
  skipped=$((skipped + ${t:-0} - ${e:-0}))
done
[ "$status" != 0 ] && [ "$failed" = 0 ] && failed=1   # build failure or crashed host: never report green
[ "$format_ok" = 0 ] && failed=$((failed + 1))        # the format check counts as one failed test
# An error the service logs (« fail: » and its stack trace) is a failure even when every test passed: the
# errors that tests provoke on purpose are answered as 4xx/503 and logged below the error level.
logged_errors=$(grep -c '^fail: ' "$RESULTS/console.log" || true)
if [ "${logged_errors:-0}" != 0 ]; then
  warn "$logged_errors erreur(s) « fail: » dans le journal des tests :"
  grep -A 3 '^fail: ' "$RESULTS/console.log" | cut -c1-300 | head -40
  failed=$((failed + 1))
fi
# The failures again at the end, where a CI log cut to its last lines still shows them.
if [ "$failed" != 0 ]; then
  echo "=== Tests en échec (détail plus haut et dans $RESULTS) ==="
  grep -E -A 10 '^\s+Failed [A-Za-z]' "$RESULTS/console.log" | cut -c1-300 | head -90 || true
  echo "=== En échec ==="
  grep -E '^\s+Failed [A-Za-z]' "$RESULTS/console.log" | cut -c1-300 || true
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ] || exit 1
