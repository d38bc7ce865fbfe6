#!/bin/sh
# Whole-process comparisons for MRT reading (issue 4):
#   1. collector mrt dump -m vs bgpdump -m on the same uncompressed
#      updates file (target: at least 5x faster);
#   2. collector mrt dump -m on a .bz2 vs bzip2 -dc alone on the same file
#      (target: no slower).
# Needs ../shared/data, bgpdump and bzip2; uses hyperfine when installed
# (apt-get install -y hyperfine), else time(1). Usage: scripts/bench-mrt.sh
set -eu
cd "$(dirname "$0")/.."
DATA=${VANTAGE_SHARED_DATA:-../shared/data}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
tags=""
[ -f /usr/include/bzlib.h ] && tags=libbz2
go build -tags "$tags" -o "$TMP/collector" ./cmd/collector

# An uncompressed updates file: RIS BGP4MP_ET, 89,686 records, 13.5 MB.
gzip -dc "$DATA/mrt/bgpdump/test_data/updates.et-header.2015.gz" > "$TMP/updates.mrt"
# A bzip2 file with many blocks: the same records three times (40 MB).
cat "$TMP/updates.mrt" "$TMP/updates.mrt" "$TMP/updates.mrt" | bzip2 -9 > "$TMP/updates3.mrt.bz2"

if command -v hyperfine >/dev/null; then
	hyperfine -N --warmup 1 --runs 5 \
		"bgpdump -m $TMP/updates.mrt" \
		"$TMP/collector mrt dump -m $TMP/updates.mrt" --output=null
	hyperfine -N --warmup 1 --runs 5 \
		"bzip2 -dc $TMP/updates3.mrt.bz2" \
		"$TMP/collector mrt dump -m $TMP/updates3.mrt.bz2" --output=null
else
	for c in "bgpdump -m $TMP/updates.mrt" "$TMP/collector mrt dump -m $TMP/updates.mrt" \
		"bzip2 -dc $TMP/updates3.mrt.bz2" "$TMP/collector mrt dump -m $TMP/updates3.mrt.bz2"; do
		echo "$c"
		/usr/bin/time -f "  %e s elapsed, %U s user" $c >/dev/null
	done
fi
