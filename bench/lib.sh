# Shared helpers for the bench scripts (sourced, not run). Expects ROOT to be set; call
# bench_mode and bench_begin first. Every process a script starts goes through spawn() (or into PIDS) and
# is stopped on exit.

log() { echo "bench: $*" >&2; }

# MODE from the script's argument: full without one, else one of the allowed --modes.
bench_mode() {  # "allowed modes" argument
  MODE=full
  [ -z "$2" ] && return 0
  local m
  for m in $1; do [ "$2" = "--$m" ] && { MODE=$m; return 0; }; done
  echo "usage: bench/$(basename "$0") [--${1// /|--}]" >&2; exit 2
}

# A work directory (removed on exit) in WORK, and the traps that stop every process in PIDS.
bench_begin() {  # name
  WORK=$(mktemp -d "/tmp/handoff-$1.XXXXXX")
  chmod 755 "$WORK"   # nginx workers run as nobody and keep their temp paths here
  PIDS=()
  SERVER_PIDS=()
  trap bench_cleanup EXIT
  trap 'exit 130' INT TERM
}

bench_cleanup() {
  local p
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
  rm -rf "$WORK"
}

# Starts a server of the configuration being measured (its output in WORK/logname.log).
spawn() {  # logname command...   (the command itself in the background: $! is its PID)
  local name=$1; shift
  "$@" >>"$WORK/$name.log" 2>&1 &
  SERVER_PIDS+=($!); PIDS+=($!)
}

forget_pids() {  # pids...   (stopped: no longer ours to clean up)
  local p kept=()
  for p in "${PIDS[@]}"; do [[ " $* " == *" $p "* ]] || kept+=("$p"); done
  PIDS=("${kept[@]}")
}

# Stops every server of the configuration being measured.
stop_config() {
  stop_pids "${SERVER_PIDS[@]}"
  forget_pids "${SERVER_PIDS[@]}"
  SERVER_PIDS=()
}

# Installs the Debian packages whose command is missing (root only).
ensure_commands() {  # "command:package" ...
  local missing=() pair
  for pair in "$@"; do command -v "${pair%%:*}" >/dev/null || missing+=("${pair#*:}"); done
  [ ${#missing[@]} = 0 ] && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "bench: missing packages, install them as root: apt-get install -y ${missing[*]}" >&2; exit 1
  fi
  echo "bench: installing ${missing[*]}" >&2
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

free_port() { node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'; }
# N distinct free ports, none of those given: a port from free_port stays free only until
# someone binds it, and servers started in the background bind late, so ports taken one by one
# before any is bound can repeat.
free_ports() {  # n [ports to avoid...]  -> n lines
  local n=$1 got=" ${*:2} " p i k
  for k in $(seq 1 "$n"); do
    for i in $(seq 1 20); do p=$(free_port); [[ $got == *" $p "* ]] || break; done
    got+="$p "; echo "$p"
  done
}

# Waits until GET PATH (default /1/, a path every configuration of bench/run.sh serves, URL
# routing included) on the port answers 200 (curl: cheaper than starting node per try).
wait_http() {  # port [path]
  local _
  for _ in $(seq 1 300); do
    curl -sf -o /dev/null --max-time 1 "http://127.0.0.1:$1${2:-/1/}" && return 0
    sleep 0.05
  done
  echo "bench: nothing answers on port $1" >&2; return 1
}

# CPU jiffies (user+system) used so far by these processes and their live children.
cpu_of_tree() {
  local total=0 pid
  for pid in "$@" $(for p in "$@"; do pgrep -P "$p" || true; done); do
    [ -r "/proc/$pid/stat" ] || continue
    total=$(awk -v t="$total" '{ sub(/.*\) /, ""); print t + $12 + $13 }' "/proc/$pid/stat" 2>/dev/null || echo "$total")
  done
  echo "$total"
}

# Busy jiffies of the whole machine (all CPUs): user nice system irq softirq steal.
machine_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }

# Waits (at most $1 seconds) until the machine is idle enough (< 0.3 core busy over
# 0.5 s) before a measurement; prints the seconds waited.
wait_idle() {  # max_seconds
  local waited=0 a b clk; clk=$(getconf CLK_TCK)
  while [ "$waited" -lt "$(( $1 * 2 ))" ]; do
    a=$(machine_busy); sleep 0.5; b=$(machine_busy)
    awk -v a="$a" -v b="$b" -v c="$clk" 'BEGIN { exit !((b - a) / c / 0.5 < 0.3) }' && break
    waited=$((waited + 1))
  done
  echo $((waited / 2))
}

# Stops processes by PID: SIGTERM, then SIGKILL after 5 s.
stop_pids() {
  local p i
  for p in "$@"; do kill "$p" 2>/dev/null || true; done
  for p in "$@"; do
    for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
    kill -0 "$p" 2>/dev/null && kill -KILL "$p" 2>/dev/null || true
    wait "$p" 2>/dev/null || true
  done
}

# Median, min and max of column $2 of the lines in $1.
stat_col() { printf '%s' "$1" | awk -v c="$2" 'NF && $c != "-" { print $c }' | sort -g | awk '{ v[++n] = $1 } END {
  if (n == 0) { print "- - -"; exit }
  m = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
  printf "%s %s %s\n", m, v[1], v[n] }'; }

# A table row's figures from one configuration's runs (measure's lines): sets rps lo hi
# (median, min, max req/s), the medians p50 p99 scpu wcpu rcpu, and errs (the most).
row_stats() {  # runs
  read -r rps lo hi < <(stat_col "$1" 1)
  read -r p50 _ _ < <(stat_col "$1" 2)
  read -r p99 _ _ < <(stat_col "$1" 3)
  read -r scpu _ _ < <(stat_col "$1" 4)
  read -r wcpu _ _ < <(stat_col "$1" 5)
  read -r rcpu _ _ < <(stat_col "$1" 6)
  read -r _ _ errs < <(stat_col "$1" 7)
}

# One wrk run against 127.0.0.1:$PORT with the request script; prints
# "rps p50_ms p99_ms server_cpu wrk_cpu rest_cpu errors" (CPU in cores, averaged over the run).
# WRK_THREADS (default 1) and WRK_SCRIPT (default bench/paths.lua) change the client.
measure() {  # workload duration connections pids...
  local workload=$1 duration=$2 conns=$3; shift 3
  local extra=() clk before after mb ma
  [ "$workload" = close ] && extra=(-H "Connection: close")
  clk=$(getconf CLK_TCK)
  before=$(cpu_of_tree "$@"); mb=$(machine_busy)
  TIMEFORMAT='%U %S'
  { time wrk -t"${WRK_THREADS:-1}" -c"$conns" -d"${duration}s" --latency -s "${WRK_SCRIPT:-$ROOT/bench/paths.lua}" "${extra[@]}" \
      "http://127.0.0.1:$PORT/" >"$WORK/wrk.out" 2>&1; } 2>"$WORK/wrk.time"
  after=$(cpu_of_tree "$@"); ma=$(machine_busy)
  awk -v b="$before" -v a="$after" -v mb="$mb" -v ma="$ma" -v clk="$clk" -v d="$duration" -v t="$(cat "$WORK/wrk.time")" '
    function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
    /Requests\/sec/ { rps = $2 }
    /^ +50%/ { p50 = ms($2) }
    /^ +99%/ { p99 = ms($2) }
    /Socket errors/ { gsub(/[^0-9 ]/, " "); for (i = 1; i <= NF; i++) err += $i }
    /Non-2xx/ { err += $NF }
    END {
      split(t, w, " "); srv = (a - b) / clk / d; wk = (w[1] + w[2]) / d; rest = (ma - mb) / clk / d - srv - wk
      if (rest < 0) rest = 0
      printf "%.0f %.3f %.3f %.2f %.2f %.2f %d\n", rps, p50, p99, srv, wk, rest, err
    }' "$WORK/wrk.out"
}

# ---- The master's instructions per hand-off (callgrind) ----------------------------------
# The supervisor under callgrind (workers run natively: --trace-children=no) serves N
# sequential connections; a baseline run serves none but lasts as long. Both count the
# whole life of the master (start, idle heartbeats, shutdown); (Ir_N - Ir_0) / N is the
# master's cost of one accept + hand-off, independent of machine noise. Expects BIN.
# CG_DISPATCH (default master) is the app's `dispatch`: under `kernel` each slot's worker
# accepts from its own socket and the master should do no work per connection.
callgrind_run() {  # connections seconds_to_idle policy command [paths] -> sets CG_IR, CG_SECS, CG_OUT
  local n=$1 idle=$2 policy=$3 command=$4 paths=${5:-/} port pid t0 t1 i
  port=$(free_port)
  CG_OUT=$WORK/cg-$n.out
  rm -f "$CG_OUT" "$WORK"/cg.log "$WORK"/cg-sup.log
  cat >"$WORK/cg.yaml" <<YAML
listeners:
  - address: 127.0.0.1:$port
apps:
  - name: hello
    command: $command
    workers: 2
    policy: $policy
    dispatch: ${CG_DISPATCH:-master}
shutdown_timeout: 5s
log_format: logfmt
YAML
  valgrind --tool=callgrind --trace-children=no --callgrind-out-file="$CG_OUT" --log-file="$WORK/cg.log" \
    "$BIN/supervisor" --config "$WORK/cg.yaml" >"$WORK/cg-sup.log" 2>&1 &
  pid=$!; PIDS+=("$pid")
  for i in $(seq 1 600); do
    [ "$(grep -c 'event=ready' "$WORK/cg-sup.log" 2>/dev/null)" -ge 2 ] && break
    kill -0 "$pid" 2>/dev/null || { log "supervisor under callgrind exited early"; cat "$WORK/cg-sup.log" >&2; exit 1; }
    sleep 0.1
  done
  t0=$(date +%s.%N)
  if [ "$n" -gt 0 ]; then node "$ROOT/bench/conn-client.js" "$port" "$n" "$paths"; else sleep "$idle"; fi
  t1=$(date +%s.%N)
  stop_pids "$pid"
  forget_pids "$pid"
  CG_IR=$(awk '/^(summary|totals):/ { ir = $2 } END { print ir }' "$CG_OUT")
  CG_SECS=$(awk -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.2f", t1 - t0 }')
  [ -n "$CG_IR" ] || { log "no callgrind output"; cat "$WORK/cg.log" >&2; exit 1; }
}

# One measurement: N connections, then the baseline of equal length. Sets CG_PAIR to
# "Ir_N Ir_0 seconds per_connection", and CG_OUT_N / CG_OUT_0 to the two profiles.
callgrind_pair() {  # connections policy command [paths]
  local ir_n secs
  callgrind_run "$1" 0 "$2" "$3" "${4:-/}"; ir_n=$CG_IR; secs=$CG_SECS; CG_OUT_N=$CG_OUT
  callgrind_run 0 "$secs" "$2" "$3"; CG_OUT_0=$CG_OUT
  CG_PAIR="$ir_n $CG_IR $secs $(awk -v a="$ir_n" -v b="$CG_IR" -v n="$1" 'BEGIN { printf "%.0f", (a - b) / n }')"
}

# nginx in front of the workers: `upstreams` and `map`s in its http block, `route` in its
# one location (proxy_pass ...), the proxy settings every configuration shares (HTTP/1.1
# to the upstreams, their connections kept).
NGINX_KEEP='keepalive 64; keepalive_requests 100000; keepalive_timeout 4s;'
spawn_nginx() {  # upstreams route
  local d=$WORK/nginx
  rm -rf "$d"; mkdir -p "$d/logs"; chmod 755 "$d"
  cat >"$d/nginx.conf" <<CONF
worker_processes auto;
pid $d/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000;
  client_body_temp_path $d/client_temp;
  proxy_temp_path $d/proxy_temp;
  fastcgi_temp_path $d/fastcgi_temp;
  uwsgi_temp_path $d/uwsgi_temp;
  scgi_temp_path $d/scgi_temp;
  $1
  server {
    listen 127.0.0.1:$PORT;
    location / {
      $2
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
CONF
  spawn nginx nginx -p "$d" -c "$d/nginx.conf" -e "$d/logs/error.log" -g 'daemon off;'
}

# HAProxy in front of the workers (HTTP mode, connections to them reused): `frontend`
# lines after its bind, then `backends`.
spawn_haproxy() {  # frontend backends
  cat >"$WORK/haproxy.cfg" <<CONF
global
  maxconn 4096
defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  timeout http-keep-alive 30s
  http-reuse always
frontend fe
  bind 127.0.0.1:$PORT
  $1
$2
CONF
  spawn haproxy haproxy -db -f "$WORK/haproxy.cfg"
}
