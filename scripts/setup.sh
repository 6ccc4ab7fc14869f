#!/usr/bin/env bash
# Installs what Detour needs to build and test on a fresh Debian machine, skipping what is already there:
# the C libraries (libcurl, SQLite), promtool and PostgreSQL from apt, and a Python venv (.venv) with the
# local test servers' packages.
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
for pkg in libcurl4-openssl-dev libsqlite3-dev pkg-config; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
# promtool (from Debian's prometheus) checks the daemon's /metrics in the suite.
command -v promtool >/dev/null 2>&1 || need_apt+=(prometheus)
# The PostgreSQL store's tests run against a throwaway server (scripts/postgres-test-server.sh).
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need_apt+=(postgresql)
command -v psql >/dev/null 2>&1 || need_apt+=(postgresql-client)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]} with apt-get"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

# Re-install when the requirements changed since the venv was made.
stamp=.venv/.requirements
if [ ! -x .venv/bin/python ] || ! cmp -s scripts/requirements-test.txt "$stamp"; then
  echo "setup: preparing .venv with the test servers' Python packages"
  [ -x .venv/bin/python ] || python3 -m venv .venv
  .venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements-test.txt
  cp scripts/requirements-test.txt "$stamp"
fi
