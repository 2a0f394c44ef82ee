#!/usr/bin/env bash
# Runs the whole test suite: installs the native pieces the tests use (when they are missing and
# we may install them), runs every NUnit test once and the browser SDK's node tests, and prints
# "N passed, N failed[, N skipped]" over both.
set -uo pipefail
cd "$(dirname "$0")"

scripts/install-deps.sh

results=TestResults
rm -rf "$results"
dotnet test Sfu.sln -c Release --logger "trx;LogFilePrefix=results" --logger "console;verbosity=minimal" \
  --results-directory "$results" "$@"
status=$?

passed=0; failed=0; total=0

# The browser SDK's own tests (node's test runner): its state machine, its types, its package. Their TAP summary
# ("# pass N", "# fail N", ... at column 0; nested subtests are indented) is added to the counts below.
sdk=clients/browser
sdk_tap="$results/browser-sdk.tap"
mkdir -p "$results"
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "node and npm are missing: the browser SDK tests did not run (scripts/install-deps.sh installs them)"
  failed=$((failed + 1)); status=1
elif ! { [ "$sdk/node_modules/.package-lock.json" -nt "$sdk/package-lock.json" ] || (cd "$sdk" && npm ci --no-audit --no-fund >/dev/null); }; then
  echo "npm ci failed in $sdk: the browser SDK tests did not run"
  failed=$((failed + 1)); status=1
else
  (cd "$sdk" && node --test --test-reporter=tap test/*.test.js) >"$sdk_tap" 2>&1
  node_status=$?
  tap_count() { sed -n "s/^# $1 \([0-9][0-9]*\)\$/\1/p" "$sdk_tap" | tail -n 1; }
  node_total=$(tap_count tests); node_passed=$(tap_count pass)
  node_failed=$(( $(tap_count fail) + $(tap_count cancelled) + 0 ))
  if [ -z "$node_total" ] || [ -z "$node_passed" ]; then
    echo "the browser SDK tests printed no TAP summary (exit $node_status); see $sdk_tap"
    node_total=1; node_passed=0; node_failed=1
  elif [ "$node_status" -ne 0 ] && [ "$node_failed" -eq 0 ]; then
    node_failed=1; node_total=$((node_total + 1))  # a failure outside any test, e.g. a file that does not load
  fi
  grep '^not ok' "$sdk_tap" || true
  echo "browser SDK (node --test): $node_passed passed, $node_failed failed"
  total=$((total + node_total)); passed=$((passed + node_passed)); failed=$((failed + node_failed))
  [ "$node_status" -eq 0 ] || status=1
fi

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
