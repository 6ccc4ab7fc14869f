#!/usr/bin/env bash
# Runs Detour's whole test suite: installs what it needs, builds, runs every test target.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DETOUR_TEST_PYTHON="$PWD/.venv/bin/python"
swift build --build-tests
log=$(mktemp)
# A throwaway PostgreSQL server for the PostgreSQL store's tests, stopped (and its directory
# removed) at the end, however the run ends.
pg_dir=$(mktemp -d "${TMPDIR:-/tmp}/detour-test-pg.XXXXXX")
trap 'rm -f "$log"; bash scripts/postgres-test-server.sh stop "$pg_dir"' EXIT
DETOUR_TEST_POSTGRES_URL=$(bash scripts/postgres-test-server.sh start "$pg_dir")
export DETOUR_TEST_POSTGRES_URL
echo "test.sh: PostgreSQL for the tests at $DETOUR_TEST_POSTGRES_URL"
set +e
# Serially: on 2 cores, parallel tests that wait on subprocesses starve Swift's cooperative pool and
# turn probe timeouts into flakes. The whole suite takes under a minute this way.
swift test --skip-build --no-parallel "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
# One plain closing line for any reader: "tests: N passed, N failed".
total=$( (grep -oE 'Test run with [0-9]+ tests?' "$log" || true) | tail -1 | grep -oE '[0-9]+' || true)
failed_tests=$( (grep -E '^✘ Test .* failed' "$log" || true) | sort -u | wc -l)
echo "tests: $(( ${total:-0} - failed_tests )) passed, ${failed_tests} failed"
exit "$status"
