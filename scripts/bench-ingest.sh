#!/usr/bin/env bash
# Ingest benchmark (README "Benchmarks"): one full table (the shared 2002
# bview, 115,521 paths) from one gobgpd injector into `collector run`
# (embedded NATS, writer, local clickhouse-server), BIRD 2 and gobgpd, in
# interleaved rounds. Needs bird2, gobgpd, clickhouse-server and python3
# (make deps-test). Arguments go to internal/benchingest, for example
#   scripts/bench-ingest.sh -rounds 5 -cpuprofile /tmp/collector.prof
set -euo pipefail
cd "$(dirname "$0")/.."
for b in bird birdc gobgpd gobgp clickhouse-server python3; do
  command -v "$b" >/dev/null || { echo "bench-ingest: $b is not installed (make deps-test)"; exit 1; }
done
tags=$([ -f /usr/include/bzlib.h ] && echo libbz2 || true)
go build -tags "$tags" -o bin/ ./cmd/collector
go build -o bin/benchingest ./internal/benchingest
exec bin/benchingest -collector bin/collector "$@"
