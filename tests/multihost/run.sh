#!/usr/bin/env bash
# make test-multihost (root, Linux): the network of topology.sh, a load balancer in hmh-lb
# in front of 3 supervisors, and multihost.test.js in the client namespace (it starts the
# supervisors): once with HAProxy, once with nginx. Everything it starts it stops, and the
# namespaces go even when a step fails.
#   tests/multihost/run.sh BIN_DIR [haproxy|nginx ...]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=$(cd "${1:-$root/build/bin}" && pwd)
[ "$(id -u)" = 0 ] || { echo "test-multihost: needs root (network namespaces)" >&2; exit 1; }
shift || true
if [ $# -gt 0 ]; then balancers=("$@"); else balancers=(haproxy nginx); fi
for b in "${balancers[@]}"; do
  command -v "$b" >/dev/null || { echo "test-multihost: $b is missing (make test-multihost installs it)" >&2; exit 1; }
done
node=${NODE:-$(command -v node)}
work=$(mktemp -d /tmp/handoff-multihost.XXXXXX)
cleanup() {
  "$here/topology.sh" down
  rm -rf "$work"
}
trap cleanup EXIT
"$here/topology.sh" up
status=0
for b in "${balancers[@]}"; do
  echo "test-multihost: $b in front of 3 supervisors"
  # In the foreground of its own process, logging to its output.
  case $b in
    haproxy) ip netns exec hmh-lb haproxy -db -f "$here/haproxy.cfg" >"$work/$b.log" 2>&1 & ;;
    nginx)
      mkdir -p "$work/nginx/tmp"
      ip netns exec hmh-lb nginx -p "$work/nginx/" -c "$here/nginx.conf" -g 'daemon off;' >"$work/$b.log" 2>&1 & ;;
    *) echo "test-multihost: no balancer named $b" >&2; exit 2 ;;
  esac
  balancer=$!
  ip netns exec hmh-cl env HANDOFF_BIN="$bin" MULTIHOST_LB="$b" "$node" --test --test-concurrency=1 "$here/multihost.test.js" || {
    status=$?
    echo "test-multihost: failed with $b; it said:" >&2
    tail -40 "$work/$b.log" >&2
  }
  kill "$balancer" 2>/dev/null || true
  wait "$balancer" 2>/dev/null || true
done
exit "$status"
