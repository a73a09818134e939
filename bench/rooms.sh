#!/usr/bin/env bash
# Sticky chat rooms over WebSocket: the workload the supervisor's affinity is for. Two
# processes of examples/chat/server.js (Node, Debian's ws); ROOMS rooms of MEMBERS clients
# (bench/rooms-client.js); every member of a room must reach the process that holds the
# room. Side by side, in one run:
#   direct   the client picks each room's process itself (jump hash of XXH64 of the room,
#            as the supervisor's rule): nothing in between, the ceiling
#   sup      the supervisor, `url_segment: {index: 2}` on /chat/<room>; it hands each
#            socket over and is out of the WebSocket's path
#   nginx    nginx `hash $uri consistent`, proxying the WebSocket (every frame through it)
#   haproxy  HAProxy `balance uri` + `hash-type consistent`, tunnelling the WebSocket
#
#   bench/rooms.sh           full run: 3 passes of 5 s per configuration (about 2 minutes)
#   bench/rooms.sh --quick   one pass of 2 s
#   bench/rooms.sh --smoke   proves the script works (CI; test build, 8 rooms, 1 s): figures mean nothing
#   ROOMS=100 MEMBERS=8 REPEAT=5 DURATION=8 bench/rooms.sh     override
#   PRESET=default bench/rooms.sh --quick    reuse the test build (checks the script)
#
# Writes bench/results/rooms-latest.md (--quick: bench/results/tmp/rooms-latest.md).
# What the figures mean: docs/benchmarks.md, "Chat rooms over WebSocket".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

source "$ROOT/bench/lib.sh"
bench_mode "quick smoke" "${1:-}"
case $MODE in
  full)  REPEAT=${REPEAT:-3}; DURATION=${DURATION:-5}; IDLE_MAX=20 ;;
  quick) REPEAT=${REPEAT:-1}; DURATION=${DURATION:-2}; IDLE_MAX=5 ;;
  smoke) REPEAT=1; DURATION=1; IDLE_MAX=0; ROOMS=8; PRESET=default ;;
esac
ROOMS=${ROOMS:-64}
MEMBERS=${MEMBERS:-4}
CONFIGS=(${ONLY:-direct sup nginx haproxy})
STARTED=$(date +%s)

bench_begin rooms

# --- set-up -------------------------------------------------------------------------
ensure_commands nginx:nginx haproxy:haproxy curl:curl
make -s deps >/dev/null
PRESET=${PRESET:-release}
cmake --preset "$PRESET" >/dev/null
cmake --build --preset "$PRESET" >/dev/null
BIN=$ROOT/build$([ "$PRESET" = default ] || echo "-$PRESET")/bin
CHAT=$ROOT/examples/chat/server.js
INFO=/chat/probe/info   # a URL every chat process answers with 200


start_backends() {  # -> B1 B2: two standalone chat processes
  B1=$(free_port); B2=$(free_port)
  PORT=$B1 HOST=127.0.0.1 NODE_ENV=production spawn "chat-$B1" node "$CHAT"
  PORT=$B2 HOST=127.0.0.1 NODE_ENV=production spawn "chat-$B2" node "$CHAT"
  wait_http "$B1" "$INFO"; wait_http "$B2" "$INFO"
}

start_config() {  # id -> TARGET (what the client is given)
  SERVER_PIDS=()
  case $1 in
    direct)
      start_backends; TARGET="$B1,$B2" ;;
    sup)
      PORT=$(free_port)
      cat >"$WORK/rooms.yaml" <<YAML
listeners:
  - address: 127.0.0.1:$PORT
apps:
  - name: chat
    command: [node, $CHAT]
    workers: 2
    policy: {url_segment: {index: 2}}
    env: {NODE_ENV: production}
YAML
      spawn supervisor "$BIN/supervisor" --config "$WORK/rooms.yaml"
      wait_http "$PORT" "$INFO"; TARGET=$PORT ;;
    nginx)
      start_backends; PORT=$(free_port)
      local d=$WORK/nginx; rm -rf "$d"; mkdir -p "$d/logs"; chmod 755 "$d"
      cat >"$d/nginx.conf" <<CONF
worker_processes auto;
pid $d/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $d/client_temp;
  proxy_temp_path $d/proxy_temp;
  fastcgi_temp_path $d/fastcgi_temp;
  uwsgi_temp_path $d/uwsgi_temp;
  scgi_temp_path $d/scgi_temp;
  upstream chat { hash \$uri consistent; server 127.0.0.1:$B1; server 127.0.0.1:$B2; }
  server {
    listen 127.0.0.1:$PORT;
    location / {
      proxy_pass http://chat;
      proxy_http_version 1.1;
      proxy_set_header Upgrade \$http_upgrade;
      proxy_set_header Connection "upgrade";
      proxy_read_timeout 1h;
    }
  }
}
CONF
      spawn nginx nginx -p "$d" -c "$d/nginx.conf" -e "$d/logs/error.log" -g 'daemon off;'
      wait_http "$PORT" "$INFO"; TARGET=$PORT ;;
    haproxy)
      start_backends; PORT=$(free_port)
      cat >"$WORK/haproxy.cfg" <<CONF
global
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout tunnel 1h
frontend fe
  bind 127.0.0.1:$PORT
  default_backend chat
backend chat
  balance uri
  hash-type consistent
  server c1 127.0.0.1:$B1
  server c2 127.0.0.1:$B2
CONF
      spawn haproxy haproxy -db -f "$WORK/haproxy.cfg"
      wait_http "$PORT" "$INFO"; TARGET=$PORT ;;
    *) log "unknown configuration $1"; exit 2 ;;
  esac
}


declare -A LINES
log "$MODE run: ${CONFIGS[*]}, $ROOMS rooms x $MEMBERS members, $REPEAT pass(es) of ${DURATION}s"
for round in $(seq 1 "$REPEAT"); do
  order=("${CONFIGS[@]}")
  [ $((round % 2)) = 0 ] && order=($(printf '%s\n' "${CONFIGS[@]}" | tac))
  for id in "${order[@]}"; do
    start_config "$id"
    [ "$IDLE_MAX" -gt 0 ] && wait_idle "$IDLE_MAX" >/dev/null
    line=$(node "$ROOT/bench/rooms-client.js" "$TARGET" "$ROOMS" "$MEMBERS" "$DURATION" 1) \
      || { log "$id: the client failed: $line"; exit 1; }
    LINES[$id]+="$line"$'\n'
    stop_config
    log "pass $round/$REPEAT: $id $line ($(( $(date +%s) - STARTED ))s)"
  done
done

# --- report ---------------------------------------------------------------------------
field() { node -e 'for (const l of require("fs").readFileSync(0, "utf8").split("\n")) if (l) console.log(JSON.parse(l)[process.argv[1]])' "$2" <<<"$1"; }
median() { sort -g | awk '{ v[++n] = $1 } END { if (!n) { print "-"; exit } print (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2 }'; }
declare -A LABEL=(
  [direct]="client picks the process (no proxy)"
  [sup]="handoff supervisor, url_segment index 2"
  [nginx]="nginx hash \$uri consistent"
  [haproxy]="HAProxy balance uri, consistent"
)
base=$(field "${LINES[${CONFIGS[0]}]}" rounds_per_s | median)
out_dir=bench/results; [ "$MODE" = full ] && [ -z "${ONLY:-}" ] || out_dir=bench/results/tmp
mkdir -p "$out_dir"
{
  echo "# Chat rooms over WebSocket ($MODE run, $(date -u +%Y-%m-%d))"
  echo
  echo "\`bench/rooms.sh$([ "$MODE" = full ] || echo " --$MODE")\`: $ROOMS rooms x $MEMBERS members, 2 chat processes (Node),"
  echo "one speaker per room in a closed loop, $REPEAT pass(es) of ${DURATION}s, medians. 2 cores shared with the client."
  echo
  echo "| configuration | rounds/s | deliveries/s | vs ${CONFIGS[0]} | p50 ms | p99 ms | client CPU (cores) |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  for id in "${CONFIGS[@]}"; do
    r=$(field "${LINES[$id]}" rounds_per_s | median)
    printf '| %s | %s | %s | %.2fx | %s | %s | %s |\n' "${LABEL[$id]}" "$r" \
      "$(field "${LINES[$id]}" deliveries_per_s | median)" "$(awk -v a="$r" -v b="$base" 'BEGIN { print b ? a / b : 0 }')" \
      "$(field "${LINES[$id]}" p50_ms | median)" "$(field "${LINES[$id]}" p99_ms | median)" \
      "$(field "${LINES[$id]}" client_cpu | median)"
  done
} >"$out_dir/rooms-latest.md"
cat "$out_dir/rooms-latest.md"
