#!/usr/bin/env bash
# Runs the lifecycle and fault integration tests beside a CPU hog (stress-ng on every
# core), as they run on a busy shared machine. The hog is bounded in time and stopped
# when this script ends, however it ends.
#   tests/loaded.sh BIN_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(cd "${1:-build/bin}" && pwd)
cores=$(nproc)
node=$(tools/node-lts/node-lts.sh default) # the suite's default Node (make deps)
stress-ng --cpu "$cores" --timeout 900s --quiet &
hog=$!
trap 'kill "$hog" 2>/dev/null; wait "$hog" 2>/dev/null || true' EXIT
echo "tests/loaded.sh: stress-ng --cpu $cores running (pid $hog)"
HANDOFF_BIN="$bin" HANDOFF_SOURCE_DIR="$PWD" timeout 900 \
  "$node" --test --test-concurrency=1 tests/integration/lifecycle.test.js tests/integration/faults.test.js
