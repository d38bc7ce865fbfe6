#!/usr/bin/env bash
# Looking-glass benchmark at RIS scale (issue 10, README "Benchmarks"):
# builds 10M current routes (20 peers x 500k, made of the shared RIB dumps)
# and 100M history rows in a dedicated local clickhouse-server (data in
# .cache/benchlg, kept and reused by later runs; -rebuild builds it again),
# then prints p50/p99 of the storage queries lg runs while 20k events/s are
# stored, bytes on disk per event beside gzipped MRT, and the insert rate
# beside an ENGINE = Null table. Needs clickhouse-server (make deps) and
# ../shared/data. The full scale takes 15-25 minutes on 2 cores (build
# 3-4 min the first time); the data set keeps ~3 GB, and a run grows it to
# ~20 GB (the ingest's rows, merged-away parts) before resetting it at exit.
# To try it out:
#   scripts/bench-lg.sh -routes 100k -history 20M -queries 200 -budget 1m
# Arguments go to internal/benchlg (-h lists them).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v clickhouse-server >/dev/null || { echo "bench-lg: clickhouse-server is not installed (make deps)"; exit 1; }
tags=$([ -f /usr/include/bzlib.h ] && echo libbz2 || true)
go build -tags "$tags" -o bin/benchlg ./internal/benchlg
BENCHLG_COMMAND="scripts/bench-lg.sh $*" exec bin/benchlg "$@"
