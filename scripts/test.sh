#!/usr/bin/env bash
# Runs Detour's whole test suite: installs what it needs, builds, runs every test target.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export DETOUR_TEST_PYTHON="$PWD/.venv/bin/python"
swift build --build-tests
swift test --skip-build "$@"
