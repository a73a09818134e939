#!/usr/bin/env bash
# The floor of Node's IPC handle receive, and how close the supervisor's Node path comes to
# it: CPU time per connection (on-CPU time of every thread, /proc/PID/task/*/schedstat) of
# the master or sender and of the 2 workers, over N sequential `Connection: close`
# connections (bench/conn-client.js, /1/ and /2/ in turn) after 1,000 of warm-up:
#
#   floor        reference/ipc_sender.c + node-ipc-floor.js (Node's own receive, plain http.Server)
#   floor-sdk    the same server through our Node SDK (WITH_SDK=1)
#   sender-node  ipc_sender + examples/hello-node (the SDK and the example's handler)
#   sup-node     the supervisor, url_segment, 2 hello-node
#
#   bench/node-floor.sh            N=4000, each configuration twice, in turn
#   N=2000 REPEAT=1 CONFIGS="floor sup-node" bench/node-floor.sh
# CPU time per connection moves less with the machine's load than req/s does, but it moves.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source "$ROOT/bench/lib.sh"
bench_mode "" "${1:-}"
N=${N:-4000}; REPEAT=${REPEAT:-2}; PRESET=${PRESET:-release}
bench_begin node-floor
BIN=$ROOT/build$([ "$PRESET" = default ] || echo "-$PRESET")/bin
[ -x "$BIN/supervisor" ] || { log "build the $PRESET preset first (cmake --build --preset $PRESET)"; exit 1; }
cc -O2 -o "$WORK/ipc_sender" "$ROOT/bench/reference/ipc_sender.c"
NODE_APP=$ROOT/examples/hello-node/server.js

on_cpu_ns() {  # pids... -> nanoseconds on CPU, all their threads
  local t=0 p f
  for p in "$@"; do for f in /proc/"$p"/task/*/schedstat; do t=$((t + $(cut -d' ' -f1 "$f" 2>/dev/null || echo 0))); done; done
  echo "$t"
}

start() {  # config
  PORT=$(free_port)
  # The SDK serves sockets from a master only where one is named (HANDOFF_APP).
  case $1 in
    floor) PORT=$PORT NPROC=2 spawn "$1" "$WORK/ipc_sender" node "$ROOT/bench/node-ipc-floor.js" ;;
    floor-sdk) HANDOFF_APP=hello HANDOFF_SLOT=1 HANDOFF_WORKERS=2 WITH_SDK=1 PORT=$PORT NPROC=2 \
      spawn "$1" "$WORK/ipc_sender" node "$ROOT/bench/node-ipc-floor.js" ;;
    sender-node) HANDOFF_APP=hello HANDOFF_SLOT=1 HANDOFF_WORKERS=2 NODE_ENV=production PORT=$PORT NPROC=2 \
      spawn "$1" "$WORK/ipc_sender" node "$NODE_APP" ;;
    sup-node)
      cat >"$WORK/cluster.yaml" <<YAML
listeners:
  - address: 127.0.0.1:$PORT
apps:
  - name: hello
    command: node $NODE_APP
    workers: 2
    policy: {url_segment: {index: 1, direct: true}}
    env: {NODE_ENV: production}
YAML
      spawn "$1" "$BIN/supervisor" --config "$WORK/cluster.yaml" ;;
  esac
  wait_http "$PORT" /1/
  wait_http "$PORT" /2/
}

echo "CPU per connection, N=$N sequential connections (Node $(node --version)):"
for round in $(seq 1 "$REPEAT"); do
  for config in ${CONFIGS:-floor floor-sdk sender-node sup-node}; do
    start "$config"
    master=${SERVER_PIDS[0]}
    workers=$(pgrep -P "$master" | tr '\n' ' ')
    node "$ROOT/bench/conn-client.js" "$PORT" 1000 /1/,/2/  # warm-up: Node's JIT
    m0=$(on_cpu_ns "$master"); w0=$(on_cpu_ns $workers)
    node "$ROOT/bench/conn-client.js" "$PORT" "$N" /1/,/2/
    m1=$(on_cpu_ns "$master"); w1=$(on_cpu_ns $workers)
    awk -v c="$config" -v m=$((m1 - m0)) -v w=$((w1 - w0)) -v n="$N" -v l="$(cut -d' ' -f1 /proc/loadavg)" \
      'BEGIN { printf "  %-12s master or sender %6.1f us, 2 workers %6.1f us (load %s)\n", c, m / n / 1000, w / n / 1000, l }'
    stop_config
  done
done
