#!/usr/bin/env bash
# The multi-host test's network (make test-multihost): network namespaces on this machine,
# nothing routed outside them. A namespace of its own holds the bridge; every other one has
# a veth into it and a private address on 10.201.0.0/24:
#   hmh-lb  10.201.0.10   the load balancer (HAProxy or nginx)
#   hmh-h1  10.201.0.11   a "host": a supervisor and its workers
#   hmh-h2  10.201.0.12
#   hmh-h3  10.201.0.13
#   hmh-cl  10.201.0.20   the clients (and the test itself)
#
#   tests/multihost/topology.sh up|down
# `down` removes all of it (and is safe to run when nothing is there); `up` runs `down`
# first, so a run killed earlier leaves nothing behind for the next one.
set -euo pipefail
PREFIX=hmh
NET=$PREFIX-net
MEMBERS=(lb:10 h1:11 h2:12 h3:13 cl:20)

down() {
  local m name
  for m in "${MEMBERS[@]}" net; do
    name=$PREFIX-${m%%:*}
    # Whatever still runs in a namespace goes with it (a killed run's supervisors, HAProxy).
    if ip netns pids "$name" >/dev/null 2>&1; then
      ip netns pids "$name" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
      ip netns delete "$name" 2>/dev/null || true
    fi
  done
}

up() {
  down
  ip netns add "$NET"
  ip -n "$NET" link add br0 type bridge
  ip -n "$NET" link set br0 up
  ip -n "$NET" link set lo up
  local m name short addr
  for m in "${MEMBERS[@]}"; do
    short=${m%%:*}
    addr=10.201.0.${m##*:}
    name=$PREFIX-$short
    ip netns add "$name"
    # The pair is made inside the bridge's namespace, then one end moves to the member.
    ip -n "$NET" link add "v-$short" type veth peer name eth0 netns "$name"
    ip -n "$NET" link set "v-$short" master br0 up
    ip -n "$name" link set lo up
    ip -n "$name" addr add "$addr/24" dev eth0
    ip -n "$name" link set eth0 up
  done
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
