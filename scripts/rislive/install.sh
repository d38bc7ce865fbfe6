#!/usr/bin/env bash
# Installs ws (the WebSocket client BGPalerter's RIS connector uses, from
# the npm registry) into .cache/rislive, if it is not there yet, for the
# test that drives lg's /v1/ws/ the way BGPalerter does
# (scripts/rislive/bgpalerter-client.js). Needs node and npm.
set -euo pipefail
cd "$(dirname "$0")/../.."
dir=.cache/rislive
[ -f "$dir/node_modules/ws/package.json" ] && exit 0
command -v npm >/dev/null || { echo "rislive: npm is not installed; the BGPalerter-style client test will not run"; exit 0; }
mkdir -p "$dir"
for try in 1 2 3; do
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error ws@8.18.3 && exit 0
  echo "rislive: npm install failed (try $try); retrying"; sleep 5
done
exit 1
