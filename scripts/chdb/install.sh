#!/usr/bin/env bash
# Installs chDB (a current ClickHouse engine, in-process, from the npm
# registry) into .cache/chdb, if it is not there yet, for the test that
# runs Vantage's SQL on a current ClickHouse release (scripts/chdb/check.js).
# Needs node and npm.
exec "$(dirname "$0")/../npm-install.sh" chdb chdb@3.4.0
