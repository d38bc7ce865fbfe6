#!/usr/bin/env bash
# Installs ws (the WebSocket client BGPalerter's RIS connector uses, from
# the npm registry) into .cache/rislive, for the test that drives lg's
# /v1/ws/ the way BGPalerter does (scripts/rislive/bgpalerter-client.js).
exec "$(dirname "$0")/../npm-install.sh" rislive ws@8.18.3
