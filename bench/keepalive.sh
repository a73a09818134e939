#!/usr/bin/env bash
# Keep-alive figures, side by side in one run:
#  1. memory per idle keep-alive connection: N connections each send one request and stay
#     idle; (server RSS with them - RSS before) / N, for hello-cpp and hello-node behind the
#     supervisor (the worker's RSS; the master's is shown too) and a plain Node http.Server
#     listening itself;
#  2. keep-alive hello throughput (wrk -t1 -c64, as bench/run.sh) of hello-cpp and
#     hello-node, each alone and behind the supervisor with one worker.
#
#   bench/keepalive.sh           full run: 15,000 idle connections and 3 passes of 5 s per
#                                throughput point (about 5 minutes)
#   bench/keepalive.sh --quick   2,000 idle connections, one pass of 2 s (about 1 minute)
#   IDLE=5000 REPEAT=5 DURATION=8 bench/keepalive.sh   override
#   PRESET=default bench/keepalive.sh --quick           reuse the test build (checks the script;
#                                                       the figures come from the release build)
#
# Writes bench/results/keepalive-latest.md (--quick: bench/results/tmp/keepalive-latest.md).
# What the figures mean: docs/benchmarks.md, "Keep-alive".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

source "$ROOT/bench/lib.sh"
bench_mode "quick" "${1:-}"
case $MODE in
  full)  IDLE=${IDLE:-15000}; REPEAT=${REPEAT:-3}; DURATION=${DURATION:-5}; WARMUP=1; IDLE_MAX=20 ;;
  quick) IDLE=${IDLE:-2000};  REPEAT=${REPEAT:-1}; DURATION=${DURATION:-2}; WARMUP=1; IDLE_MAX=5 ;;
esac
CONNECTIONS=${CONNECTIONS:-64}
STARTED=$(date +%s)

bench_begin keepalive

# --- set-up -------------------------------------------------------------------------
ensure_commands wrk:wrk curl:curl prlimit:util-linux
make -s deps >/dev/null
PRESET=${PRESET:-release}
cmake --preset "$PRESET" >/dev/null
cmake --build --preset "$PRESET" >/dev/null
BUILD=build-$PRESET; [ "$PRESET" = default ] && BUILD=build
BIN=$ROOT/$BUILD/bin
NODE_APP=$ROOT/examples/hello-node/server.js
IDLE_CLIENT=$ROOT/tests/integration/idle-client.js

# Every process that holds the idle connections needs that many descriptors: the soft
# limit raised within the hard one, or both raised (root).
NEEDED=$((IDLE + 512))
HARD=$(awk '/Max open files/ { print $5 }' /proc/self/limits)
if [ "$HARD" -ge "$NEEDED" ]; then NOFILE="$NEEDED:$HARD"; else NOFILE="$NEEDED:$NEEDED"; fi
prlimit --nofile="$NOFILE" true 2>/dev/null || { log "cannot give processes $NEEDED descriptors (hard limit $HARD); run as root or lower IDLE"; exit 1; }
LIMIT=(prlimit --nofile="$NOFILE")

rss_of() { awk '/VmRSS/ { print $2 * 1024 }' "/proc/$1/status"; }


start_supervisor() {  # command keep_alive_timeout
  cat >"$WORK/cluster.yaml" <<YAML
listeners:
  - address: 127.0.0.1:$PORT
    backlog: 4096
apps:
  - name: hello
    command: $1
    cwd: $ROOT
    workers: 1
    env: {NODE_ENV: production}
    http: {keep_alive_timeout: $2}
YAML
  spawn supervisor "${LIMIT[@]}" "$BIN/supervisor" --config "$WORK/cluster.yaml"
}

# id -> how it starts; the process whose memory holds the connections is MEASURED.
declare -A LABEL=(
  [sup-cpp]="hello-cpp behind the supervisor"
  [sup-node]="hello-node behind the supervisor"
  [plain-node]="plain Node http.Server, listening itself"
  [direct-cpp]="hello-cpp alone, 1 process"
  [direct-node]="hello-node alone, 1 process"
)
MEASURED=""; MASTER=""
start_config() {  # id keep_alive_timeout_seconds
  SERVER_PIDS=(); MEASURED=""; MASTER=""
  PORT=$(free_port)
  case $1 in
    sup-cpp) start_supervisor "$BIN/hello-cpp" "$2s" ;;
    sup-node) start_supervisor "node $NODE_APP" "$2s" ;;
    plain-node) PORT=$PORT HOST=127.0.0.1 KEEP_ALIVE_TIMEOUT_MS=$(($2 * 1000)) spawn plain "${LIMIT[@]}" node "$ROOT/bench/node-plain-http.js" ;;
    direct-cpp) PORT=$PORT HOST=127.0.0.1 spawn direct "$BIN/hello-cpp" ;;
    direct-node) PORT=$PORT HOST=127.0.0.1 NODE_ENV=production spawn direct node "$NODE_APP" ;;
  esac
  wait_http "$PORT"
  case $1 in
    sup-*) MASTER=${SERVER_PIDS[0]}; MEASURED=$(pgrep -P "$MASTER" | head -1) ;;
    *) MEASURED=${SERVER_PIDS[0]} ;;
  esac
}



# --- 1. memory per idle connection ------------------------------------------------------
# Prints "bytes_per_connection worker_delta master_delta seconds_to_open".
idle_point() {  # id
  local before mbefore client out answered after mafter
  start_config "$1" 300   # idle connections must outlive the measurement
  curl -s -o /dev/null "http://127.0.0.1:$PORT/"   # first use may allocate lazily
  [ "$IDLE_MAX" -gt 0 ] && wait_idle "$IDLE_MAX" >/dev/null
  before=$(rss_of "$MEASURED"); mbefore=0; [ -n "$MASTER" ] && mbefore=$(rss_of "$MASTER")
  out=$WORK/idle.out; : >"$out"
  "${LIMIT[@]}" node "$IDLE_CLIENT" "{\"port\":$PORT,\"count\":$IDLE,\"addresses\":8,\"concurrency\":200,\"hold\":true}" >"$out" 2>>"$WORK/idle-client.log" &
  client=$!; PIDS+=("$client")
  for _ in $(seq 1 1200); do grep -q '"answered"' "$out" && break; kill -0 "$client" 2>/dev/null || break; sleep 0.1; done
  answered=$(grep '"answered"' "$out" || true)
  [ -n "$answered" ] || { log "$1: the idle client did not finish"; cat "$WORK/idle-client.log" >&2; exit 1; }
  grep -q "\"ok\":$IDLE," <<<"$answered" || { log "$1: not every connection got 200: $answered"; exit 1; }
  after=$(rss_of "$MEASURED"); mafter=0; [ -n "$MASTER" ] && mafter=$(rss_of "$MASTER")
  stop_pids "$client"; forget_pids "$client"
  stop_config
  awk -v b="$before" -v a="$after" -v mb="$mbefore" -v ma="$mafter" -v n="$IDLE" -v ans="$answered" 'BEGIN {
    match(ans, /"elapsedMs":[0-9]+/); ms = substr(ans, RSTART + 12, RLENGTH - 12)
    printf "%.0f %.0f %.0f %.1f\n", (a - b) / n, a - b, ma - mb, ms / 1000 }'
}

IDLE_CONFIGS=(sup-cpp sup-node plain-node)
declare -A IDLE_RESULTS
log "$MODE run: $IDLE idle connections x ${#IDLE_CONFIGS[@]} servers, $REPEAT pass(es)"
for round in $(seq 1 "$REPEAT"); do
  order=("${IDLE_CONFIGS[@]}"); [ $((round % 2)) = 0 ] && order=($(printf '%s\n' "${IDLE_CONFIGS[@]}" | tac))
  for id in "${order[@]}"; do
    IDLE_RESULTS[$id]+="$(idle_point "$id")"$'\n'
    log "idle pass $round/$REPEAT: $id done ($(( $(date +%s) - STARTED ))s)"
  done
done

# --- 2. keep-alive throughput -----------------------------------------------------------
RPS_CONFIGS=(direct-cpp sup-cpp direct-node sup-node)
declare -A RPS_RESULTS
for round in $(seq 1 "$REPEAT"); do
  order=("${RPS_CONFIGS[@]}"); [ $((round % 2)) = 0 ] && order=($(printf '%s\n' "${RPS_CONFIGS[@]}" | tac))
  for id in "${order[@]}"; do
    start_config "$id" 5
    [ "$WARMUP" -gt 0 ] && { wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" -s "$ROOT/bench/paths.lua" "http://127.0.0.1:$PORT/" >/dev/null 2>&1 || true; }
    [ "$IDLE_MAX" -gt 0 ] && wait_idle "$IDLE_MAX" >/dev/null
    RPS_RESULTS[$id]+="$(measure keepalive "$DURATION" "$CONNECTIONS" "${SERVER_PIDS[@]}")"$'\n'
    stop_config
    log "throughput pass $round/$REPEAT: $id done ($(( $(date +%s) - STARTED ))s)"
  done
done

# --- report -----------------------------------------------------------------------------
OUTDIR=bench/results; [ "$MODE" = quick ] && OUTDIR=bench/results/tmp
mkdir -p "$OUTDIR"
OUT=$OUTDIR/keepalive-latest.md
kib() { awk -v v="$1" 'BEGIN { if (v == "-") print "-"; else printf "%.1f", v / 1024 }'; }
fmt_ms() { awk -v v="$1" 'BEGIN { if (v == "-") print "-"; else if (v < 10) printf "%.2f", v; else printf "%.1f", v }'; }
mib() { awk -v v="$1" 'BEGIN { if (v == "-") print "-"; else printf "%.1f", v / 1048576 }'; }
CPU_MODEL=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
{
  echo "# Keep-alive benchmarks: $(date -u '+%Y-%m-%d %H:%M UTC') ($MODE run)"
  echo
  echo "Machine: $(nproc) cores ($CPU_MODEL), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)."
  echo "Node $(node --version), $(wrk -v 2>&1 | awk 'NR == 1 { print $1, $2 }'), supervisor and hello-cpp from $BUILD ($PRESET preset)."
  echo "$REPEAT pass(es) per point, servers in alternating order; median with min–max."
  [ "$MODE" = quick ] && echo && echo "**Quick run: one pass, $IDLE idle connections; the figures are indicative only.**"
  echo
  echo "## Memory per idle keep-alive connection"
  echo
  echo "$IDLE connections (from 8 loopback addresses, 200 opening at a time) each send \`GET /\` and stay idle;"
  echo "the server's RSS is read once every one has its response (keep-alive timeout 300 s, so none has closed)."
  echo "*per connection* = (RSS then - RSS before) / $IDLE; *master* = the supervisor's own RSS change; *open in* = seconds"
  echo "until all $IDLE had their response."
  echo
  echo "| server | per connection | min–max | server RSS delta | master RSS delta | open in |"
  echo "|---|---|---|---|---|---|"
  for id in "${IDLE_CONFIGS[@]}"; do
    runs=${IDLE_RESULTS[$id]:-}
    read -r per lo hi < <(stat_col "$runs" 1)
    read -r delta _ _ < <(stat_col "$runs" 2)
    read -r mdelta _ _ < <(stat_col "$runs" 3)
    read -r secs _ _ < <(stat_col "$runs" 4)
    [ "$id" = plain-node ] && mdelta="-"
    md="-"; [ "$mdelta" != "-" ] && md="$(kib "$mdelta") KiB"
    echo "| ${LABEL[$id]} | $(kib "$per") KiB | $(kib "$lo")–$(kib "$hi") | $(mib "$delta") MiB | $md | $secs s |"
  done
  echo
  echo "## Keep-alive hello throughput"
  echo
  echo "\`wrk -t1 -c$CONNECTIONS -d${DURATION}s --latency -s bench/paths.lua\`, after a ${WARMUP}s warm-up; the supervisor with one worker,"
  echo "so each pair is the same single process, alone and behind the master (one hand-off per connection)."
  echo "*server* = cores used by the server processes, *wrk* = by wrk, *rest* = everything else (see docs/benchmarks.md)."
  echo
  echo "| configuration | req/s | min–max | p50 ms | p99 ms | server | wrk | rest | errors | vs alone |"
  echo "|---|---|---|---|---|---|---|---|---|---|"
  for id in "${RPS_CONFIGS[@]}"; do
    runs=${RPS_RESULTS[$id]:-}
    row_stats "$runs"
    case $id in *-cpp) anchor=direct-cpp ;; *) anchor=direct-node ;; esac
    read -r arps _ _ < <(stat_col "${RPS_RESULTS[$anchor]:-}" 1)
    va=$(awk -v a="$rps" -v b="$arps" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }')
    [ "$id" = "$anchor" ] && va=anchor
    label=${LABEL[$id]}; [[ $id == sup-* ]] && label="$label (1 worker)"
    echo "| $label | $rps | $lo–$hi | $(fmt_ms "$p50") | $(fmt_ms "$p99") | $scpu | $wcpu | $rcpu | $errs | $va |"
  done
  echo
  echo "The run took $(( $(date +%s) - STARTED )) s."
} >"$OUT"
log "wrote $OUT"
cat "$OUT"
