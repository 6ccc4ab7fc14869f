#!/usr/bin/env bash
# Builds the self-contained `detour` binary and runs it on the example configuration.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "==> building detour (release, static Swift runtime)"
swift build -c release --product detour --static-swift-stdlib
bin=".build/release/detour"
echo
echo "==> $bin policy check --config examples/detour.yaml"
"$bin" policy check --config examples/detour.yaml
echo
echo "==> $bin policy show rosies-bakery --config examples/detour.yaml"
"$bin" policy show rosies-bakery --config examples/detour.yaml
