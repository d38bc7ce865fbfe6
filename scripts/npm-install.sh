#!/usr/bin/env bash
# npm-install.sh NAME PACKAGE@VERSION: installs an npm package that a test
# needs into .cache/NAME (once: nothing to do when it is there). Without
# npm it says which test will not run and succeeds.
set -euo pipefail
cd "$(dirname "$0")/.."
name=$1 spec=$2
pkg=${spec%@*}
dir=.cache/$name
[ -f "$dir/node_modules/$pkg/package.json" ] && exit 0
command -v npm >/dev/null || { echo "$name: npm is not installed; the tests that need $pkg will not run"; exit 0; }
mkdir -p "$dir"
for try in 1 2 3; do
  npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "$spec" && exit 0
  echo "$name: npm install $spec failed (try $try); retrying"; sleep 5
done
exit 1
