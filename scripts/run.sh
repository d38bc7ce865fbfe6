#!/usr/bin/env bash
# Starts the collector and the looking glass with the built-in defaults.
# The collector starts the local ClickHouse and the embedded NATS; the
# looking glass reuses that ClickHouse. Ctrl-C stops everything.
set -euo pipefail
bin=${1:-bin}
args=()
[ -n "${CONFIG:-}" ] && args=(-config "$CONFIG")
"$bin/collector" run "${args[@]}" &
collector=$!
trap 'kill $collector 2>/dev/null; wait $collector 2>/dev/null' EXIT INT TERM
"$bin/lg" "${args[@]}"
