#!/usr/bin/env bash
# Runs the whole test suite: installs the native pieces the tests use (when they are missing and
# we may install them), runs every NUnit test once, and prints "N passed, N failed[, N skipped]".
set -uo pipefail
cd "$(dirname "$0")"

scripts/install-deps.sh

results=TestResults
rm -rf "$results"
dotnet test Sfu.sln -c Release --logger "trx;LogFilePrefix=results" --logger "console;verbosity=minimal" \
  --results-directory "$results" "$@"
status=$?

passed=0; failed=0; total=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  value() { printf '%s' "$counters" | sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p"; }
  total=$((total + $(value total)))
  passed=$((passed + $(value passed)))
  failed=$((failed + $(value failed) + $(value error) + $(value timeout) + $(value aborted)))
done
skipped=$((total - passed - failed))
if [ "$total" -eq 0 ] && [ "$status" -ne 0 ]; then failed=1; fi
summary="$passed passed, $failed failed"
[ "$skipped" -gt 0 ] && summary="$summary, $skipped skipped"
echo "$summary"
exit $status
