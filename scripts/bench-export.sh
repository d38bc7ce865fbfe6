#!/usr/bin/env bash
# RIB export benchmark (README "MRT export", issue 11): a synthetic
# 1M-entry TABLE_DUMP_V2 RIB (10 peers x 100,000 prefixes, 15% IPv6) is
# imported with `collector mrt import` into a private clickhouse-server,
# then `collector mrt export -rib -at T -o X.gz` (the whole process) and
# `bgpdump -m X.gz` run in interleaved rounds. Needs clickhouse-server and
# bgpdump (make deps-test). Arguments go to internal/benchexport, e.g.
#   scripts/bench-export.sh -rounds 5 -cpuprofile /tmp/export.prof
#   scripts/bench-export.sh -store /tmp/bench-store   # keep the import for the next run
set -euo pipefail
cd "$(dirname "$0")/.."
for b in clickhouse-server bgpdump; do
  command -v "$b" >/dev/null || { echo "bench-export: $b is not installed (make deps-test)"; exit 1; }
done
tags=$([ -f /usr/include/bzlib.h ] && echo libbz2 || true)
go build -tags "$tags" -o bin/ ./cmd/collector
go build -o bin/benchexport ./internal/benchexport
exec bin/benchexport -collector bin/collector "$@"
