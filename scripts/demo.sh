#!/usr/bin/env bash
# make demo: runs zkop's main job end to end on this machine. Grows as parts land.
set -euo pipefail
BUILD_DIR=${1:-build}
echo "== zkop $("$BUILD_DIR"/operator/zkop-operator --version | awk '{print $2}')"
"$BUILD_DIR"/operator/zkop-operator --help | head -3
"$BUILD_DIR"/agent/zkop-agent --help | head -3
