#!/usr/bin/env bash
# make test-multihost (root, Linux): the network of topology.sh, HAProxy in hmh-lb in front
# of 3 supervisors, and multihost.test.js in the client namespace (it starts the
# supervisors). Everything it starts it stops, and the namespaces go even when a step fails.
#   tests/multihost/run.sh BIN_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$(cd "${1:-$root/build/bin}" && pwd)
[ "$(id -u)" = 0 ] || { echo "test-multihost: needs root (network namespaces)" >&2; exit 1; }
command -v haproxy >/dev/null || { echo "test-multihost: haproxy is missing (make test-multihost installs it)" >&2; exit 1; }
node=${NODE:-$(command -v node)}
work=$(mktemp -d /tmp/handoff-multihost.XXXXXX)
cleanup() {
  "$here/topology.sh" down
  rm -rf "$work"
}
trap cleanup EXIT
"$here/topology.sh" up
# HAProxy in the foreground of its own process (-db), logs to its output.
ip netns exec hmh-lb haproxy -db -f "$here/haproxy.cfg" >"$work/haproxy.log" 2>&1 &
haproxy=$!
status=0
ip netns exec hmh-cl env HANDOFF_BIN="$bin" "$node" --test --test-concurrency=1 "$here/multihost.test.js" || status=$?
kill "$haproxy" 2>/dev/null || true
wait "$haproxy" 2>/dev/null || true
if [ "$status" != 0 ]; then
  echo "test-multihost: failed ($status); HAProxy said:" >&2
  tail -40 "$work/haproxy.log" >&2
fi
exit "$status"
