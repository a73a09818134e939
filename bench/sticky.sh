#!/usr/bin/env bash
# Sticky rooms over keep-alive HTTP: 4 workers, wrk -t4, every wrk thread always sends the
# same path, /k/room (thread 1 -> /1/room ... thread 4 -> /4/room: bench/sticky.lua), so
# each thread's connections belong to one worker. Side by side, in one run, 4 workers each,
# C++ (hello-cpp) and Node (examples/hello-node/server.js) workers:
#   sup-*      the supervisor, `url_segment: {index: 1, direct: true}` (always master
#              dispatch): it peeks each connection's first request and hands the connection
#              to slot k once; the requests after it never pass through the master
#   nginx-*    nginx `map $uri` /(\d+)/ to 4 upstreams (every request through it)
#   haproxy-*  HAProxy `use_backend slot%[path,field(2,/)]`, 4 backends (every request through it)
# Before measuring, each configuration is checked: two requests for /k/room on one
# connection reach the same worker (X-Handoff-Worker), the 4 paths reach 4 different
# workers, and under the supervisor /k/ reaches slot k.
#
#   bench/sticky.sh           full run: 3 passes of 5 s per configuration (about 2 minutes)
#   bench/sticky.sh --quick   one pass of 2 s (release build)
#   bench/sticky.sh --smoke   proves the script works (CI; test build, 1 s): figures mean nothing
#   CONNECTIONS=128 REPEAT=5 DURATION=8 bench/sticky.sh     override (CONNECTIONS: a multiple of 4)
#   ONLY="sup-cpp nginx-cpp" bench/sticky.sh                a subset
#   PRESET=default bench/sticky.sh --quick                  reuse the test build (checks the script)
#
# Writes bench/results/sticky-latest.md (--quick, --smoke, ONLY: bench/results/tmp/sticky-latest.md).
# What the figures mean: docs/benchmarks.md, "Sticky rooms over keep-alive".
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

source "$ROOT/bench/lib.sh"
bench_mode "quick smoke" "${1:-}"
case $MODE in
  full)  REPEAT=${REPEAT:-3}; DURATION=${DURATION:-5}; WARMUP=1; IDLE_MAX=20 ;;
  quick) REPEAT=${REPEAT:-1}; DURATION=${DURATION:-2}; WARMUP=1; IDLE_MAX=5 ;;
  smoke) REPEAT=1; DURATION=1; WARMUP=0; IDLE_MAX=0; PRESET=default ;;
esac
THREADS=4   # = workers = slots: thread k -> /k/room -> slot k
CONNECTIONS=${CONNECTIONS:-64}
[ $((CONNECTIONS % THREADS)) = 0 ] && [ "$CONNECTIONS" -ge "$THREADS" ] || { echo "CONNECTIONS must be a multiple of $THREADS" >&2; exit 2; }
ALL_CONFIGS=(sup-cpp sup-node nginx-cpp nginx-node haproxy-cpp haproxy-node)
CONFIGS=(${ONLY:-${ALL_CONFIGS[@]}})
STARTED=$(date +%s)

bench_begin sticky

# --- set-up -------------------------------------------------------------------------
ensure_commands wrk:wrk nginx:nginx haproxy:haproxy curl:curl
make -s deps >/dev/null
PRESET=${PRESET:-release}
cmake --preset "$PRESET" >/dev/null
cmake --build --preset "$PRESET" >/dev/null
BIN=$ROOT/build$([ "$PRESET" = default ] || echo "-$PRESET")/bin
NODE_APP=$ROOT/examples/hello-node/server.js
export WRK_THREADS=$THREADS WRK_SCRIPT=$ROOT/bench/sticky.lua   # for measure (bench/lib.sh)

kind_of() { echo "${1##*-}"; }

start_worker() {  # kind port  -> one standalone worker listening itself
  if [ "$1" = cpp ]; then
    PORT=$2 HOST=127.0.0.1 spawn "worker-$2" "$BIN/hello-cpp"
  else
    PORT=$2 HOST=127.0.0.1 NODE_ENV=production spawn "worker-$2" node "$NODE_APP"
  fi
}

start_backends() {  # kind -> B (array of 4 distinct ports, none = PORT), each with a worker listening
  local p
  B=($(free_ports "$THREADS" "$PORT"))   # distinct, and not the front's port (bench/lib.sh)
  for p in "${B[@]}"; do start_worker "$1" "$p"; done
  for p in "${B[@]}"; do wait_http "$p"; done
}

start_config() {  # id -> PORT
  SERVER_PIDS=()
  PORT=$(free_port)
  local kind k cmd
  kind=$(kind_of "$1")
  case $1 in
    sup-*)
      if [ "$kind" = cpp ]; then cmd="$BIN/hello-cpp"; else cmd="node $NODE_APP"; fi
      cat >"$WORK/sticky.yaml" <<YAML
listeners:
  - address: 127.0.0.1:$PORT
apps:
  - name: hello
    command: $cmd
    cwd: $ROOT
    workers: $THREADS
    policy: {url_segment: {index: 1, direct: true}}
    dispatch: master
    env: {NODE_ENV: production}
YAML
      spawn supervisor "$BIN/supervisor" --config "$WORK/sticky.yaml" ;;
    nginx-*)
      start_backends "$kind"
      local ups=""
      for k in $(seq 1 "$THREADS"); do ups+="upstream slot$k { server 127.0.0.1:${B[$((k - 1))]}; $NGINX_KEEP }"$'\n  '; done
      spawn_nginx "$ups
  map \$uri \$slot { \"~^/(?<n>[1-$THREADS])/\" \$n; default 1; }" "proxy_pass http://slot\$slot;" ;;
    haproxy-*)
      start_backends "$kind"
      local backends=""
      for k in $(seq 1 "$THREADS"); do backends+=$(printf 'backend slot%d\n  server w%d 127.0.0.1:%s' "$k" "$k" "${B[$((k - 1))]}")$'\n'; done
      spawn_haproxy "use_backend slot%[path,field(2,/)]
  default_backend slot1" "$backends" ;;
    *) log "unknown configuration $1"; exit 2 ;;
  esac
  wait_http "$PORT" /1/room
}

# Two requests for /k/room on one connection (curl reuses it: num_connects 1 then 0) reach
# the same worker; the 4 paths reach 4 workers; under the supervisor, /k/ is slot k.
check_sticky() {  # id
  local k out conns w1 w2 seen=" "
  for k in $(seq 1 "$THREADS"); do
    out=$(curl -s --max-time 5 -o /dev/null -o /dev/null -D - -w 'connects=%{num_connects}\n' \
      "http://127.0.0.1:$PORT/$k/room" "http://127.0.0.1:$PORT/$k/room" | tr -d '\r')
    conns=$(grep '^connects=' <<<"$out" | cut -d= -f2 | tr '\n' ' ')
    w1=$(grep -i '^x-handoff-worker:' <<<"$out" | sed -n 1p | awk '{ print $2 }')
    w2=$(grep -i '^x-handoff-worker:' <<<"$out" | sed -n 2p | awk '{ print $2 }')
    [ "$conns" = "1 0 " ] || { log "$1: /$k/room: the two requests did not share one connection ($conns)"; exit 1; }
    [ -n "$w1" ] && [ "$w1" = "$w2" ] || { log "$1: /$k/room reached '$w1' then '$w2' on one connection"; exit 1; }
    [[ $seen == *" $w1 "* ]] && { log "$1: /$k/room reached $w1, as an earlier path did"; exit 1; }
    seen+="$w1 "
    if [[ $1 == sup-* ]]; then
      [ "$(cut -d/ -f2 <<<"$w1")" = "$k" ] || { log "$1: /$k/room reached slot $(cut -d/ -f2 <<<"$w1") ($w1), not $k"; exit 1; }
    fi
  done
  CHECKED[$1]="${seen# }"
}

declare -A RESULTS CHECKED
log "$MODE run: ${CONFIGS[*]}, wrk -t$THREADS -c$CONNECTIONS keep-alive, $REPEAT pass(es) of ${DURATION}s"
for round in $(seq 1 "$REPEAT"); do
  order=("${CONFIGS[@]}")
  [ $((round % 2)) = 0 ] && order=($(printf '%s\n' "${CONFIGS[@]}" | tac))
  for id in "${order[@]}"; do
    start_config "$id"
    [ -n "${CHECKED[$id]:-}" ] || check_sticky "$id"
    [ "$WARMUP" -gt 0 ] && { wrk -t"$THREADS" -c"$CONNECTIONS" -d"${WARMUP}s" -s "$WRK_SCRIPT" "http://127.0.0.1:$PORT/" >/dev/null 2>&1 || true; }
    [ "$IDLE_MAX" -gt 0 ] && wait_idle "$IDLE_MAX" >/dev/null
    RESULTS[$id]+="$(measure keepalive "$DURATION" "$CONNECTIONS" "${SERVER_PIDS[@]}")"$'\n'
    stop_config
    log "pass $round/$REPEAT: $id $(tail -n1 <<<"${RESULTS[$id]%$'\n'}") ($(( $(date +%s) - STARTED ))s)"
  done
done

# --- report ---------------------------------------------------------------------------
declare -A LABEL=(
  [sup-cpp]="supervisor url_segment {index: 1, direct: true} + 4 hello-cpp"
  [sup-node]="supervisor url_segment {index: 1, direct: true} + 4 hello-node"
  [nginx-cpp]="nginx map /(\\d+)/ to 4 upstreams + 4 hello-cpp"
  [nginx-node]="nginx map /(\\d+)/ to 4 upstreams + 4 hello-node"
  [haproxy-cpp]="HAProxy use_backend per segment + 4 hello-cpp"
  [haproxy-node]="HAProxy use_backend per segment + 4 hello-node"
)
median_rps() { local m; read -r m _ _ < <(stat_col "${RESULTS[$1]:-}" 1); echo "$m"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
out_dir=bench/results; { [ "$MODE" = full ] && [ -z "${ONLY:-}" ]; } || out_dir=bench/results/tmp
mkdir -p "$out_dir"
{
  echo "# Sticky rooms over keep-alive ($MODE run, $(date -u '+%Y-%m-%d %H:%M UTC'))"
  echo
  echo "\`bench/sticky.sh$([ "$MODE" = full ] || echo " --$MODE")\`: \`wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s --latency -s bench/sticky.lua\`,"
  echo "keep-alive, wrk thread k sends GET /k/room on each of its $((CONNECTIONS / THREADS)) connections; 4 workers per configuration;"
  echo "$REPEAT pass(es) per configuration$([ "$WARMUP" -gt 0 ] && echo ", each after a ${WARMUP}s warm-up"), alternating order; median with min–max."
  echo "Machine: $(nproc) cores ($(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)), shared with the client; supervisor from the $PRESET preset."
  [ "$MODE" = smoke ] && echo && echo "**Smoke run: one 1 s pass per configuration; the figures mean nothing.**"
  echo
  echo "Columns as in latest.md (bench/run.sh); *vs nginx*, *vs HAProxy* = median req/s over the row of the same workers"
  echo "behind nginx / HAProxy in this run."
  echo
  echo "| configuration | req/s | min–max | p50 ms | p99 ms | server | wrk | rest | errors | vs nginx | vs HAProxy |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|"
  for id in "${CONFIGS[@]}"; do
    runs=${RESULTS[$id]:-}
    row_stats "$runs"
    kind=$(kind_of "$id")
    echo "| ${LABEL[$id]} | $rps | $lo–$hi | $p50 | $p99 | $scpu | $wcpu | $rcpu | $errs | $(ratio "$rps" "$(median_rps "nginx-$kind")") | $(ratio "$rps" "$(median_rps "haproxy-$kind")") |"
  done
  echo
  echo "Checked before measuring (curl, two requests on one connection per path): /1/room ... /$THREADS/room each stay on one worker,"
  echo "4 different workers; the supervisor's /k/ reach slot k. Workers seen (X-Handoff-Worker, app/slot/pid):"
  echo
  for id in "${CONFIGS[@]}"; do echo "- ${LABEL[$id]}: ${CHECKED[$id]:-not checked}"; done
  echo
  echo "Run took $(( $(date +%s) - STARTED ))s."
} >"$out_dir/sticky-latest.md"
cat "$out_dir/sticky-latest.md"
log "wrote $out_dir/sticky-latest.md in $(( $(date +%s) - STARTED ))s"
