#!/usr/bin/env bash
# Hand-off cost, side by side in one run: wrk against
#   direct       one hello-cpp listening on its own port (no supervisor);
#   supervisor   the supervisor with 2 hello-cpp workers (round_robin).
# Two workloads: keep-alive (the hand-off happens once per connection) and
# `Connection: close` (one hand-off per request: the master's worst case).
# Each point is measured REPEAT times, alternating configurations; the table gives
# medians with min–max, p50/p99 latency, the CPU each side used, and ratios.
#
#   bench/dispatch.sh            full run (about 2 minutes)
#   bench/dispatch.sh --smoke    a few seconds: proves the script works (CI), figures mean nothing
#   DURATION=8 REPEAT=5 CONNECTIONS=64 bench/dispatch.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

DURATION=${DURATION:-8}
REPEAT=${REPEAT:-3}
CONNECTIONS=${CONNECTIONS:-64}
SMOKE=0
if [ "${1:-}" = "--smoke" ]; then SMOKE=1; DURATION=1; REPEAT=1; fi

if ! command -v wrk >/dev/null; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  else
    echo "bench: wrk is missing: apt-get install -y wrk" >&2; exit 1
  fi
fi

# Figures come from a Release build; the smoke run reuses the test build to stay quick.
PRESET=release; [ "$SMOKE" = 1 ] && PRESET=default
make -s deps >/dev/null
cmake --preset "$PRESET" >/dev/null
cmake --build --preset "$PRESET" >/dev/null
BIN=$ROOT/build$([ "$PRESET" = default ] || echo "-$PRESET")/bin

WORK=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }

wait_http() {  # port
  for _ in $(seq 1 200); do
    if node -e 'require("http").get({host:"127.0.0.1",port:+process.argv[1]},r=>process.exit(r.statusCode===200?0:1)).on("error",()=>process.exit(1))' "$1"; then return 0; fi
    sleep 0.05
  done
  echo "bench: nothing answers on port $1" >&2; return 1
}

# CPU seconds (user+system) used so far by a process and its children that were reaped,
# plus its live children: enough for the master and its workers.
cpu_of_tree() {
  local total=0 pid
  for pid in "$@" $(for p in "$@"; do pgrep -P "$p" || true; done); do
    [ -r /proc/$pid/stat ] || continue
    total=$(awk -v t="$total" '{ sub(/.*\) /, ""); print t + $12 + $13 }' /proc/$pid/stat)
  done
  echo "$total"
}

start_direct() {
  PORT=$(free_port)
  PORT=$PORT HOST=127.0.0.1 "$BIN/hello-cpp" >"$WORK/direct.log" 2>&1 &
  SERVER_PID=$!; PIDS+=("$SERVER_PID")
  wait_http "$PORT"
}

start_supervisor() {
  PORT=$(free_port)
  cat >"$WORK/cluster.yaml" <<YAML
listeners:
  - address: 127.0.0.1:$PORT
    backlog: 4096
apps:
  - name: hello
    command: $BIN/hello-cpp
    workers: 2
    policy: round_robin
YAML
  "$BIN/supervisor" --config "$WORK/cluster.yaml" >"$WORK/supervisor.log" 2>&1 &
  SERVER_PID=$!; PIDS+=("$SERVER_PID")
  wait_http "$PORT"
}

stop_server() {
  kill "$SERVER_PID" 2>/dev/null || true
  wait "$SERVER_PID" 2>/dev/null || true
}

# One wrk run; prints "rps p50_ms p99_ms server_cpu wrk_cpu errors".
measure() {  # workload
  local extra=() clk before after wrk_out
  [ "$1" = close ] && extra=(-H "Connection: close")
  clk=$(getconf CLK_TCK)
  before=$(cpu_of_tree "$SERVER_PID")
  TIMEFORMAT='%U %S'
  { time wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "${extra[@]}" "http://127.0.0.1:$PORT/" \
      >"$WORK/wrk.out" 2>&1; } 2>"$WORK/wrk.time"
  after=$(cpu_of_tree "$SERVER_PID")
  awk -v b="$before" -v a="$after" -v clk="$clk" -v d="$DURATION" -v t="$(cat "$WORK/wrk.time")" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Non-2xx|Socket errors/ { err = err $0 }
    END {
      split(t, w, " ")
      printf "%.0f %.2f %.2f %.2f %.2f %s\n", rps, p50, p99, (a - b) / clk / d, (w[1] + w[2]) / d, (err == "" ? "-" : "errors")
    }' "$WORK/wrk.out"
}

CONFIGS=(direct supervisor)
WORKLOADS=(keepalive close)
declare -A RESULTS
for round in $(seq 1 "$REPEAT"); do
  # Alternate the order between rounds so drift in machine load hits both sides.
  order=("${CONFIGS[@]}"); [ $((round % 2)) = 0 ] && order=(supervisor direct)
  for config in "${order[@]}"; do
    "start_$config"
    wrk -t1 -c"$CONNECTIONS" -d1s "http://127.0.0.1:$PORT/" >/dev/null 2>&1 || true  # warm-up
    for workload in "${WORKLOADS[@]}"; do
      RESULTS[$config,$workload]+="$(measure "$workload")"$'\n'
    done
    stop_server
  done
done

# Median and range of column $2 over the runs in $1.
stat() { printf '%s' "$1" | awk -v c="$2" 'NF { print $c }' | sort -g | awk '{ v[++n] = $1 } END {
  m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  printf "%s %s %s\n", m, v[1], v[n] }'; }

mkdir -p bench/results
OUT=bench/results/dispatch-latest.md; [ "$SMOKE" = 1 ] && mkdir -p bench/results/tmp && OUT=bench/results/tmp/dispatch-smoke.md
{
  echo "# bench/dispatch.sh: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo
  echo "$(nproc) cores, $(uname -r); wrk -t1 -c$CONNECTIONS, ${DURATION}s per run, $REPEAT runs per point (median, min–max)."
  echo "hello-cpp answers 13 bytes. CPU = cores used on average during the run (server: master + workers)."
  [ "$SMOKE" = 1 ] && echo && echo "**Smoke run: one short pass, the figures mean nothing.**"
  echo
  echo "| workload | configuration | req/s (median) | min–max | p50 ms | p99 ms | server CPU | wrk CPU | vs direct |"
  echo "|---|---|---|---|---|---|---|---|---|"
  for workload in "${WORKLOADS[@]}"; do
    read -r base _ _ < <(stat "${RESULTS[direct,$workload]}" 1)
    for config in "${CONFIGS[@]}"; do
      runs=${RESULTS[$config,$workload]}
      read -r rps lo hi < <(stat "$runs" 1)
      read -r p50 _ _ < <(stat "$runs" 2)
      read -r p99 _ _ < <(stat "$runs" 3)
      read -r scpu _ _ < <(stat "$runs" 4)
      read -r wcpu _ _ < <(stat "$runs" 5)
      ratio=$(awk -v a="$rps" -v b="$base" 'BEGIN { printf (b > 0 ? "%.2fx" : "-"), a / b }')
      label="1 hello-cpp, listening itself"; [ "$config" = supervisor ] && label="supervisor + 2 hello-cpp"
      echo "| $workload | $label | $rps | $lo–$hi | $p50 | $p99 | $scpu | $wcpu | $ratio |"
    done
  done
} | tee "$OUT"
if grep -q errors <<<"${RESULTS[*]}"; then echo "bench: wrk reported socket errors or non-2xx answers" >&2; fi
