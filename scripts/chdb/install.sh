#!/usr/bin/env bash
# Installs chDB (a current ClickHouse engine, in-process, from the npm
# registry) into .cache/chdb, if it is not there yet, for the test that
# runs Vantage's SQL on a current ClickHouse release (scripts/chdb/check.js).
# Needs node and npm.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=.cache/chdb
[ -f "$dir/node_modules/chdb/package.json" ] && exit 0
command -v npm >/dev/null || { echo "chdb: npm is not installed; the current-ClickHouse check will not run"; exit 0; }
mkdir -p "$dir"
for try in 1 2 3; do
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error chdb@3.4.0 && exit 0
  echo "chdb: npm install failed (try $try); retrying"; sleep 5
done
exit 1
