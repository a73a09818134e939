#!/usr/bin/env bash
# The benchmark suite: the supervisor next to the ways people run 2 workers today, in one
# run, on one machine, with one client (wrk -t1 -c64, GET /1/ and /2/ in turn; the cache rows GET /cached).
#
#   bench/run.sh           full run (about 18 minutes on 2 cores, 5 of them the output cache's rows): 3 passes of 5 s per point
#   bench/run.sh --quick   one pass of 2 s per point (about 3 minutes)
#   bench/run.sh --smoke   proves the script works (CI; every row but nginx/HAProxy + hello-node and the hello-node cache rows); the figures mean nothing
#   DURATION=8 REPEAT=5 bench/run.sh     override the pass length and count
#   ONLY="ref sup-rr-cpp" bench/run.sh   a subset of configurations (ids below)
#   ONLY="ref sup-cache-cpp sup-nocache-cpp nginx-cache-cpp" bench/run.sh --quick   the output cache's hello-cpp rows
#   PRESET=default bench/run.sh --quick  the test build instead of Release (checks the script; figures not comparable)
#
# Every supervisor row names its dispatch: sup-rr-*, sup-ip-*, sup-url-* are `dispatch: master`
# (the master accepts and hands each connection over: what results before kernel dispatch
# measured), sup-krr-* (and sup-kip-*, once `supervisor check` accepts ip_hash with kernel
# dispatch) are `dispatch: kernel` (each slot's worker accepts from its own SO_REUSEPORT socket).
# The sticky-room keep-alive workload (4 workers, wrk -t4, one /k/room path per thread) is
# bench/sticky.sh: a full benchmark is `bench/run.sh && bench/sticky.sh` (bench/README.md).
#
# The output cache (issue 19, docs/cache.md) has its own rows, all requesting GET /cached
# (bench/cached.lua), which the example workers answer with `Cache-Control: public,
# max-age=60`: sup-cache-* (round_robin with `cache: {}`, so master dispatch: the master
# answers the hits), sup-nocache-* (the same workers without the cache, the default kernel
# dispatch: every request answered by a worker) and nginx-cache-* (nginx proxy_cache
# microcaching in front of 2 workers on their own ports). Their ratios have their own table.
#
# Writes bench/results/latest.md, throughput.png and p99.png (smoke or ONLY: bench/results/tmp/).
# What each configuration runs with, and what each figure means: docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

source "$ROOT/bench/lib.sh"
bench_mode "quick smoke" "${1:-}"
case $MODE in
  full)  DURATION=${DURATION:-5}; REPEAT=${REPEAT:-3}; WARMUP=1; IDLE_MAX=20; CG_CONNS=2000; CG_PAIRS=2; RERUN_MAX=5 ;;
  quick) DURATION=${DURATION:-2}; REPEAT=${REPEAT:-1}; WARMUP=1; IDLE_MAX=5;  CG_CONNS=500;  CG_PAIRS=1; RERUN_MAX=0 ;;
  smoke) DURATION=1; REPEAT=1; WARMUP=0; IDLE_MAX=0; CG_CONNS=20; CG_PAIRS=1; RERUN_MAX=0 ;;
esac
CONNECTIONS=${CONNECTIONS:-64}
SPREAD_LIMIT=0.40   # a point whose (max - min) / median exceeds this is measured again
STARTED=$(date +%s)

bench_begin bench

# --- set-up -------------------------------------------------------------------------
ensure_commands wrk:wrk nginx:nginx haproxy:haproxy gnuplot:gnuplot-nox valgrind:valgrind curl:curl cc:gcc
make -s deps >/dev/null
# Figures come from a Release build; the smoke run reuses the test build (CI just made it).
PRESET=${PRESET:-release}; [ "$MODE" = smoke ] && PRESET=default
cmake --preset "$PRESET" >/dev/null
cmake --build --preset "$PRESET" >/dev/null
BIN=$ROOT/build$([ "$PRESET" = default ] || echo "-$PRESET")/bin
cc -O2 -o "$WORK/epoll_server" "$ROOT/bench/reference/epoll_server.c"
NODE_APP=$ROOT/examples/hello-node/server.js

# --- configurations -----------------------------------------------------------------
# id -> label; kind (cpp | node | ref) picks the ratio anchor.
# ip_hash under kernel dispatch (sup-kip-*) runs only when this build's `supervisor check`
# accepts it (a later branch brings its kernel program); until then it is a config error.
kernel_ip_hash_ok() {
  cat >"$WORK/kip-check.yaml" <<YAML
listeners:
  - address: 127.0.0.1:$(free_port)
apps:
  - name: hello
    command: $BIN/hello-cpp
    workers: 2
    policy: ip_hash
    dispatch: kernel
YAML
  "$BIN/supervisor" check "$WORK/kip-check.yaml" >"$WORK/kip-check.log" 2>&1
}
KIP=(); KIP_NOTE="ip_hash with \`dispatch: kernel\` is refused by this build's \`supervisor check\`: no sup-kip rows."
if kernel_ip_hash_ok; then KIP=(sup-kip-cpp sup-kip-node); KIP_NOTE="ip_hash with \`dispatch: kernel\` is accepted by this build: sup-kip rows measured."; fi
log "$KIP_NOTE"
[ ${#KIP[@]} = 0 ] && log "supervisor check said: $(tr '\n' ' ' <"$WORK/kip-check.log")"
ALL_CONFIGS=(ref direct-cpp direct-node sup-rr-cpp sup-krr-cpp sup-ip-cpp ${KIP[0]:-} sup-url-cpp
             sup-rr-node sup-krr-node sup-ip-node ${KIP[1]:-} sup-url-node cluster-node
             nginx-ip-cpp nginx-url-cpp nginx-ip-node nginx-url-node
             haproxy-ip-cpp haproxy-url-cpp haproxy-ip-node haproxy-url-node
             sup-cache-cpp sup-nocache-cpp nginx-cache-cpp sup-cache-node sup-nocache-node nginx-cache-node)
declare -A LABEL=(
  [ref]="C epoll reference, 2 processes (SO_REUSEPORT)"
  [direct-cpp]="hello-cpp alone, 1 process"
  [direct-node]="hello-node alone, 1 process"
  [sup-rr-cpp]="supervisor round_robin, master dispatch + 2 hello-cpp"
  [sup-krr-cpp]="supervisor round_robin, kernel dispatch + 2 hello-cpp"
  [sup-ip-cpp]="supervisor ip_hash, master dispatch + 2 hello-cpp (1 slot used)"
  [sup-kip-cpp]="supervisor ip_hash, kernel dispatch + 2 hello-cpp (1 slot used)"
  [sup-url-cpp]="supervisor url_segment /(\\d+)/ (MSG_PEEK) + 2 hello-cpp"
  [sup-rr-node]="supervisor round_robin, master dispatch + 2 hello-node"
  [sup-krr-node]="supervisor round_robin, kernel dispatch + 2 hello-node"
  [sup-ip-node]="supervisor ip_hash, master dispatch + 2 hello-node (1 slot used)"
  [sup-kip-node]="supervisor ip_hash, kernel dispatch + 2 hello-node (1 slot used)"
  [sup-url-node]="supervisor url_segment /(\\d+)/ (MSG_PEEK) + 2 hello-node"
  [cluster-node]="Node cluster, 2 workers (round robin)"
  [nginx-ip-cpp]="nginx hash \$remote_addr + 2 hello-cpp (1 used)"
  [nginx-url-cpp]="nginx map /(\\d+)/ + 2 hello-cpp"
  [nginx-ip-node]="nginx hash \$remote_addr + 2 hello-node (1 used)"
  [nginx-url-node]="nginx map /(\\d+)/ + 2 hello-node"
  [haproxy-ip-cpp]="HAProxy balance source + 2 hello-cpp (1 used)"
  [haproxy-url-cpp]="HAProxy use_backend on /(\\d+)/ + 2 hello-cpp"
  [haproxy-ip-node]="HAProxy balance source + 2 hello-node (1 used)"
  [haproxy-url-node]="HAProxy use_backend on /(\\d+)/ + 2 hello-node"
  [sup-cache-cpp]="supervisor round_robin + cache, master dispatch + 2 hello-cpp, GET /cached"
  [sup-nocache-cpp]="supervisor round_robin, no cache, kernel dispatch + 2 hello-cpp, GET /cached"
  [nginx-cache-cpp]="nginx proxy_cache (micro) + 2 hello-cpp, GET /cached"
  [sup-cache-node]="supervisor round_robin + cache, master dispatch + 2 hello-node, GET /cached"
  [sup-nocache-node]="supervisor round_robin, no cache, kernel dispatch + 2 hello-node, GET /cached"
  [nginx-cache-node]="nginx proxy_cache (micro) + 2 hello-node, GET /cached"
)
declare -A SHORT=(
  [ref]="C epoll ref" [direct-cpp]="cpp alone" [direct-node]="node alone"
  [sup-rr-cpp]="sup rr cpp" [sup-ip-cpp]="sup iphash cpp" [sup-rr-node]="sup rr node" [sup-ip-node]="sup iphash node" [sup-url-cpp]="sup url cpp" [sup-url-node]="sup url node"
  [sup-krr-cpp]="sup kernel rr cpp" [sup-krr-node]="sup kernel rr node" [sup-kip-cpp]="sup kernel iphash cpp" [sup-kip-node]="sup kernel iphash node"
  [cluster-node]="node cluster"
  [nginx-ip-cpp]="nginx iphash cpp" [nginx-url-cpp]="nginx url cpp" [nginx-ip-node]="nginx iphash node" [nginx-url-node]="nginx url node"
  [haproxy-ip-cpp]="haproxy iphash cpp" [haproxy-url-cpp]="haproxy url cpp" [haproxy-ip-node]="haproxy iphash node" [haproxy-url-node]="haproxy url node"
  [sup-cache-cpp]="sup cache cpp" [sup-nocache-cpp]="sup uncached cpp" [nginx-cache-cpp]="nginx cache cpp"
  [sup-cache-node]="sup cache node" [sup-nocache-node]="sup uncached node" [nginx-cache-node]="nginx cache node"
)
kind_of() { case $1 in ref) echo ref ;; *-cpp) echo cpp ;; *) echo node ;; esac; }
CONFIGS=(${ONLY:-${ALL_CONFIGS[@]}})
# Smoke (CI): the new rows cost time (2 rows, a second callgrind pair), so the proxies in front
# of hello-node are left out: their generators are the hello-cpp rows' with the worker that
# direct-node starts (and bench/sticky.sh --smoke runs nginx and HAProxy with hello-node).
# Of the cache rows only the hello-cpp ones run (cache, uncached, nginx proxy_cache: every
# generator and the ratios' anchors); the hello-node ones differ from them by the worker only.
if [ "$MODE" = smoke ] && [ -z "${ONLY:-}" ]; then
  CONFIGS=($(printf '%s\n' "${CONFIGS[@]}" | grep -Ev '^(nginx|haproxy)-.*-node$|^sup-(no)?cache-node$'))
fi
WORKLOADS=(keepalive close)


start_worker() {  # kind port  -> one standalone worker listening itself
  if [ "$1" = cpp ]; then
    PORT=$2 HOST=127.0.0.1 spawn "worker-$2" "$BIN/hello-cpp"
  else
    PORT=$2 HOST=127.0.0.1 NODE_ENV=production spawn "worker-$2" node "$NODE_APP"
  fi
}

start_supervisor() {  # kind policy dispatch(kernel|master|cache)
  # `cache`: the app gets `cache: {}` (every default) and no `dispatch:` (a cache keeps the
  # app on master dispatch; asking for kernel would be a config error).
  local cmd how
  if [ "$1" = cpp ]; then cmd="$BIN/hello-cpp"; else cmd="node $NODE_APP"; fi
  if [ "$3" = cache ]; then how="cache: {}"; else how="dispatch: $3"; fi
  cat >"$WORK/cluster.yaml" <<YAML
listeners:
  - address: 127.0.0.1:$PORT
apps:
  - name: hello
    command: $cmd
    cwd: $ROOT
    workers: 2
    policy: $2
    $how
    env: {NODE_ENV: production}
YAML
  spawn supervisor "$BIN/supervisor" --config "$WORK/cluster.yaml"
}

start_nginx() {  # kind routing(ip|url|cache)
  local b1 b2 upstreams route
  read -r b1 b2 <<<"$(free_ports 2 "$PORT" | tr '\n' ' ')"  # distinct, not the front's (lib.sh)
  start_worker "$1" "$b1"; start_worker "$1" "$b2"
  wait_http "$b1"; wait_http "$b2"
  local keep=$NGINX_KEEP
  if [ "$2" = ip ]; then
    upstreams="upstream workers { hash \$remote_addr consistent; server 127.0.0.1:$b1; server 127.0.0.1:$b2; $keep }"
    route="proxy_pass http://workers;"
  elif [ "$2" = cache ]; then
    # Microcaching in front of the 2 workers (round robin, nginx's default), the usual recipe.
    # The cache's files live under the run's nginx directory (spawn_nginx empties it first:
    # each start begins cold). The workers' `Cache-Control: public, max-age=60` on /cached
    # wins over proxy_cache_valid (nginx honours the upstream's Cache-Control), as it does
    # for the supervisor's cache; proxy_cache_valid is the lifetime of answers without one.
    upstreams="proxy_cache_path $WORK/nginx/cache keys_zone=micro:10m;
  upstream workers { server 127.0.0.1:$b1; server 127.0.0.1:$b2; $keep }"
    route="proxy_pass http://workers;
      proxy_cache micro;
      proxy_cache_valid 200 1s;
      proxy_cache_lock on;
      proxy_cache_use_stale updating;"
  else
    upstreams="upstream slot1 { server 127.0.0.1:$b1; $keep }
    upstream slot2 { server 127.0.0.1:$b2; $keep }
    map \$uri \$slot { \"~^/(?<n>\\d+)/\" \$n; default 1; }"
    route="proxy_pass http://slot\$slot;"
  fi
  spawn_nginx "$upstreams" "$route"
}

start_haproxy() {  # kind routing(ip|url)
  local b1 b2 route
  read -r b1 b2 <<<"$(free_ports 2 "$PORT" | tr '\n' ' ')"  # distinct, not the front's (lib.sh)
  start_worker "$1" "$b1"; start_worker "$1" "$b2"
  wait_http "$b1"; wait_http "$b2"
  if [ "$2" = ip ]; then
    route="default_backend workers"
  else
    route="use_backend slot%[path,field(2,/)]
  default_backend slot1"
  fi
  spawn_haproxy "$route" "backend workers
  balance source
  hash-type consistent
  server w1 127.0.0.1:$b1
  server w2 127.0.0.1:$b2
backend slot1
  server w1 127.0.0.1:$b1
backend slot2
  server w2 127.0.0.1:$b2"
}

start_config() {  # id
  SERVER_PIDS=()
  PORT=$(free_port)
  case $1 in
    ref) PORT=$PORT HOST=127.0.0.1 NPROC=2 spawn ref "$WORK/epoll_server" ;;
    direct-cpp) start_worker cpp "$PORT" ;;
    direct-node) start_worker node "$PORT" ;;
    sup-rr-*) start_supervisor "$(kind_of "$1")" round_robin master ;;
    sup-krr-*) start_supervisor "$(kind_of "$1")" round_robin kernel ;;
    sup-ip-*) start_supervisor "$(kind_of "$1")" ip_hash master ;;
    sup-kip-*) start_supervisor "$(kind_of "$1")" ip_hash kernel ;;
    sup-url-*) start_supervisor "$(kind_of "$1")" "{url_segment: {index: 1, direct: true}}" master ;;
    sup-cache-*) start_supervisor "$(kind_of "$1")" round_robin cache ;;
    sup-nocache-*) start_supervisor "$(kind_of "$1")" round_robin kernel ;;
    cluster-node) PORT=$PORT HOST=127.0.0.1 WORKERS=2 NODE_ENV=production spawn cluster node "$ROOT/bench/node-cluster.js" ;;
    nginx-ip-*) start_nginx "$(kind_of "$1")" ip ;;
    nginx-url-*) start_nginx "$(kind_of "$1")" url ;;
    nginx-cache-*) start_nginx "$(kind_of "$1")" cache ;;
    haproxy-ip-*) start_haproxy "$(kind_of "$1")" ip ;;
    haproxy-url-*) start_haproxy "$(kind_of "$1")" url ;;
  esac
  wait_http "$PORT"
}


# The cache rows request GET /cached (bench/cached.lua), every other row /1/ and /2/ in turn.
is_cache_row() { [[ $1 == *cache-* ]]; }
script_of() { if is_cache_row "$1"; then echo "$ROOT/bench/cached.lua"; else echo "$ROOT/bench/paths.lua"; fi; }

# Response size in bytes (keep-alive/close) and a check that the body is the right one.
# Cache rows: sizes of /cached once it is stored (the hits' size under a cache); a
# supervisor cache row whose answer has no Age was not answered by the master's cache.
declare -A SIZE
NO_HITS=()
record_size() {  # id
  local ka cl body p1=/1/ p2=/2/
  if is_cache_row "$1"; then
    p1=/cached; p2=/cached
    curl -s -o /dev/null "http://127.0.0.1:$PORT/cached"
  fi
  ka=$(curl -si "http://127.0.0.1:$PORT$p1" | tee "$WORK/answer.txt" | wc -c)
  cl=$(curl -si -H 'Connection: close' "http://127.0.0.1:$PORT$p2" | wc -c)
  body=$(curl -s "http://127.0.0.1:$PORT$p2")
  if [ "$body" != "Hello, world!" ]; then
    log "$1 answers \"$body\" instead of Hello, world!"; exit 1
  fi
  if [[ $1 == sup-cache-* ]] && ! grep -qi '^Age:' "$WORK/answer.txt"; then
    log "$1: GET /cached came back without Age: the master's cache did not answer it (does the worker mark /cached cacheable?)"
    NO_HITS+=("$1")
  fi
  SIZE[$1]="$ka/$cl"
}

# The configuration's warm-up: a cache row's first GET /cached (it fills the cache, and under
# the supervisor its connection stays with the worker that answered), then 1 s of keep-alive
# load with the row's request script.
warm_up() {  # id
  is_cache_row "$1" && curl -s -o /dev/null "http://127.0.0.1:$PORT/cached"
  [ "$WARMUP" -gt 0 ] && { wrk -t1 -c"$CONNECTIONS" -d"${WARMUP}s" -s "$(script_of "$1")" "http://127.0.0.1:$PORT/" >/dev/null 2>&1 || true; }
  LAST_HITS=""
}

# sup-cache-* rows: the master's cache hits during each point (`supervisor status --json`,
# whose counters the master refreshes every second) over the requests wrk completed, so the
# table shows that the hits are what was measured (a keep-alive connection that a worker
# holds is answered by that worker: docs/cache.md).
declare -A HITS
LAST_HITS=""
cache_hits_shown() {
  "$BIN/supervisor" status --json --config "$WORK/cluster.yaml" 2>/dev/null | node -e '
    let s = ""; process.stdin.on("data", (d) => { s += d; }).on("end", () => {
      let hits = "-";
      try { const slot = JSON.parse(s).slots.find((x) => x.app === "hello" && x.cache); if (slot) hits = slot.cache.hits; } catch {}
      console.log(hits);
    });'
}
cache_hits() {  # once two reads a refresh apart agree (a loaded machine delays the refresh)
  local a b i
  sleep 1.1; a=$(cache_hits_shown)
  for i in 1 2 3 4; do
    sleep 1.1; b=$(cache_hits_shown)
    [ "$a" = "$b" ] && break
    a=$b
  done
  echo "$b"
}

declare -A RESULTS RERUN
IDLE_WAITED=0
run_point() {  # id workload
  local w=0 after reqs
  [ "$IDLE_MAX" -gt 0 ] && w=$(wait_idle "$IDLE_MAX")
  IDLE_WAITED=$((IDLE_WAITED + w))
  [[ $1 == sup-cache-* ]] && [ -z "$LAST_HITS" ] && LAST_HITS=$(cache_hits)
  RESULTS[$1,$2]+="$(WRK_SCRIPT=$(script_of "$1") measure "$2" "$DURATION" "$CONNECTIONS" "${SERVER_PIDS[@]}")"$'\n'
  if [[ $1 == sup-cache-* ]]; then
    after=$(cache_hits)
    reqs=$(awk '/ requests in / { print $1 }' "$WORK/wrk.out")
    HITS[$1,$2]+="$(awk -v a="$after" -v b="$LAST_HITS" -v r="${reqs:-0}" 'BEGIN { if (a == "-" || b == "-" || r == 0) print "-"; else printf "%.4f", (a - b) / r }')"$'\n'
    LAST_HITS=$after
  fi
}

# --- throughput and latency -----------------------------------------------------------
log "$MODE run: ${#CONFIGS[@]} configurations x ${WORKLOADS[*]}, $REPEAT pass(es) of ${DURATION}s"
for round in $(seq 1 "$REPEAT"); do
  # Alternate the order of configurations and of workloads between passes, so that drift
  # in machine load does not always hit the same side.
  order=("${CONFIGS[@]}")
  [ $((round % 2)) = 0 ] && order=($(printf '%s\n' "${CONFIGS[@]}" | tac))
  i=0
  for id in "${order[@]}"; do
    i=$((i + 1))
    start_config "$id"
    [ -n "${SIZE[$id]:-}" ] || record_size "$id"
    warm_up "$id"
    wls=("${WORKLOADS[@]}"); [ $(((round + i) % 2)) = 0 ] && wls=(close keepalive)
    # Smoke: one workload per configuration, alternating, to stay within seconds.
    [ "$MODE" = smoke ] && wls=("${wls[0]}")
    for wl in "${wls[@]}"; do run_point "$id" "$wl"; done
    stop_config
    log "pass $round/$REPEAT: $id done ($(( $(date +%s) - STARTED ))s)"
  done
done

# Points whose spread is wild get more passes (full mode), a bounded number of them.
spread_of() { read -r m lo hi < <(stat_col "$1" 1); awk -v m="$m" -v lo="$lo" -v hi="$hi" 'BEGIN { print (m > 0 ? (hi - lo) / m : 0) }'; }
if [ "$RERUN_MAX" -gt 0 ] && [ "$REPEAT" -ge 3 ]; then
  wild=()
  for id in "${CONFIGS[@]}"; do
    for wl in "${WORKLOADS[@]}"; do
      s=$(spread_of "${RESULTS[$id,$wl]}")
      awk -v s="$s" -v l="$SPREAD_LIMIT" 'BEGIN { exit !(s > l) }' && wild+=("$id,$wl")
    done
  done
  for point in "${wild[@]:0:$RERUN_MAX}"; do
    id=${point%,*}; wl=${point#*,}
    log "re-measuring $id $wl (spread $(spread_of "${RESULTS[$point]}"))"
    start_config "$id"
    warm_up "$id"
    run_point "$id" "$wl"; run_point "$id" "$wl"
    RERUN[$point]=1
    stop_config
  done
fi

# --- the master's instructions per hand-off (callgrind: bench/lib.sh) --------------------
# round_robin under both dispatches: master (accept + hand-off) and kernel (the master
# should not see the connections at all: ~0).
declare -A CG_PER CG_LO CG_HI
for CG_DISPATCH in master kernel; do
  CG_LINES=""
  for pair in $(seq 1 "$CG_PAIRS"); do
    callgrind_pair "$CG_CONNS" round_robin "$BIN/hello-cpp"
    CG_LINES+="$CG_PAIR"$'\n'
    per=${CG_PAIR##* }
    log "callgrind pair $pair, dispatch: $CG_DISPATCH: $per instructions per connection"
  done
  read -r per lo hi < <(stat_col "$CG_LINES" 4)
  CG_PER[$CG_DISPATCH]=$(printf '%.0f' "$per"); CG_LO[$CG_DISPATCH]=$lo; CG_HI[$CG_DISPATCH]=$hi
done
PERF_NOTE="perf stat -e instructions is not supported on this machine (no hardware counters); callgrind only."
if perf stat -e instructions true 2>&1 | grep -q '[0-9] *instructions'; then
  PERF_NOTE="perf stat -e instructions works here but is not used: callgrind counts the master alone and exactly."
fi

# --- report -----------------------------------------------------------------------------
# Only a full run of every configuration replaces the published results.
OUTDIR=bench/results; { [ "$MODE" = smoke ] || [ -n "${ONLY:-}" ]; } && OUTDIR=bench/results/tmp
mkdir -p "$OUTDIR"
OUT=$OUTDIR/latest.md

anchor_of() { case $(kind_of "$1") in cpp) echo direct-cpp ;; node) echo direct-node ;; ref) echo ref ;; esac; }
proxy_of() {  # nginx|haproxy id -> the row of that proxy to compare a supervisor row with
  case $2 in sup-url-*) echo "$1-url-$(kind_of "$2")" ;; *) echo "$1-ip-$(kind_of "$2")" ;; esac
}
median_rps() { local m; read -r m _ _ < <(stat_col "${RESULTS[$1,$2]:-}" 1); echo "$m"; }
# The sub-heading of a workload's table in latest.md.
workload_heading() { if [ "$1" = keepalive ]; then echo "### Keep-alive"; else echo "### Connection: close"; fi; }

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
times() { local r; r=$(ratio "$1" "$2"); [ "$r" = - ] && echo "-" || echo "$r×"; }  # in sentences
fmt_ms() { awk -v v="$1" 'BEGIN { if (v == "-") print "-"; else if (v < 10) printf "%.2f", v; else printf "%.1f", v }'; }

CPU_MODEL=$(awk -F': ' '/model name/ { print $2; exit }' /proc/cpuinfo)
{
  echo "# Benchmarks: $(date -u '+%Y-%m-%d %H:%M UTC') ($MODE run)"
  echo
  echo "Machine: $(nproc) cores ($CPU_MODEL), $(awk '/MemTotal/ { printf "%.0f GiB", $2 / 1048576 }' /proc/meminfo), Linux $(uname -r)."
  echo "Node $(node --version), $(nginx -v 2>&1 | sed 's/.*: //'), HAProxy $(haproxy -v | awk 'NR == 1 { print $3 }'), $(wrk -v 2>&1 | awk 'NR == 1 { print $1, $2 }'), supervisor from build$([ "$PRESET" = default ] || echo "-$PRESET") ($PRESET preset)."
  echo
  echo "Client: \`wrk -t1 -c$CONNECTIONS -d${DURATION}s --latency -s bench/paths.lua\` (GET /1/ and /2/ in turn), on the same 2 cores;"
  echo "the output-cache rows (\"GET /cached\") use \`-s bench/cached.lua\` (GET /cached on every request)."
  echo "$REPEAT pass(es) per point, each after a ${WARMUP}s warm-up, configurations in alternating order; median with min–max."
  [ "$MODE" = smoke ] && echo && echo "**Smoke run: one 1 s pass, one workload per configuration; the figures mean nothing.**"
  echo
  echo "Columns: *bytes* = size of one response (keep-alive/close) as curl sees it; *req/s* median and"
  echo "min–max over the passes; *p50/p99* latency (medians over the passes); *server*, *wrk*, *rest* = cores"
  echo "used on average during a run by the server processes (proxy + workers, or master + workers), by wrk,"
  echo "and by everything else including the kernel's softirq network work; *vs alone* = median req/s over"
  echo "the same app alone in one process (hello-cpp or hello-node), *vs C* = over the C epoll reference."
  echo "† = the point's spread exceeded $(awk -v l="$SPREAD_LIMIT" 'BEGIN { print l * 100 }')%, so it was measured twice more and the figures cover all its runs."
  for wl in "${WORKLOADS[@]}"; do
    echo
    if [ "$wl" = keepalive ]; then echo "## Keep-alive (one hand-off per connection, then requests on it)"; else echo "## Connection: close (one connection, so one hand-off, per request)"; fi
    echo
    echo "| configuration | bytes | req/s | min–max | p50 ms | p99 ms | server | wrk | rest | errors | vs alone | vs C |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
    for id in "${CONFIGS[@]}"; do
      runs=${RESULTS[$id,$wl]:-}
      row_stats "$runs"
      anchor=$(anchor_of "$id")
      va=$(ratio "$rps" "$(median_rps "$anchor" "$wl")"); [ "$id" = "$anchor" ] && va="anchor"; [ "$id" = ref ] && va="-"
      vc=$(ratio "$rps" "$(median_rps ref "$wl")"); [ "$id" = ref ] && vc="anchor"
      mark=""; [ -n "${RERUN[$id,$wl]:-}" ] && mark=" †"
      echo "| ${LABEL[$id]}$mark | ${SIZE[$id]:--} | $rps | $lo–$hi | $(fmt_ms "$p50") | $(fmt_ms "$p99") | $scpu | $wcpu | $rcpu | $errs | $va | $vc |"
    done
  done
  echo
  echo "## Ratios of the supervisor rows (same run)"
  echo
  echo "req/s of each row over: the C epoll reference; nginx and HAProxy in front of the same workers"
  echo "(L4 rows — round_robin, ip_hash — against their address-hash rows, url_segment rows against their"
  echo "URL rows); Node cluster (Node rows only). $KIP_NOTE"
  for wl in "${WORKLOADS[@]}"; do
    echo
    workload_heading "$wl"
    echo
    echo "| configuration | req/s | vs C | vs nginx | vs HAProxy | vs Node cluster |"
    echo "|---|---|---|---|---|---|"
    for id in "${CONFIGS[@]}"; do
      [[ $id == sup-* ]] || continue
      is_cache_row "$id" && continue   # their own table below
      rps=$(median_rps "$id" "$wl")
      echo "| ${LABEL[$id]} | $rps | $(ratio "$rps" "$(median_rps ref "$wl")") | $(ratio "$rps" "$(median_rps "$(proxy_of nginx "$id")" "$wl")") | $(ratio "$rps" "$(median_rps "$(proxy_of haproxy "$id")" "$wl")") | $([ "$(kind_of "$id")" = node ] && ratio "$rps" "$(median_rps cluster-node "$wl")" || echo -) |"
    done
  done
  echo
  echo "Targets of kernel dispatch (issue), \`Connection: close\`: C++ workers ≥ 0.9× the C reference and"
  echo "≥ 1.2× nginx and HAProxy; Node workers ≥ 1.5× Node cluster and ≥ 0.9× nginx → Node; keep-alive rows"
  echo "and bench/sticky.sh's sticky-room rows must not fall below their master-dispatch figures."
  echo
  cache_ids=()
  for id in "${CONFIGS[@]}"; do [[ $id == sup-cache-* || $id == nginx-cache-* ]] && cache_ids+=("$id"); done
  if [ ${#cache_ids[@]} -gt 0 ]; then
    echo "## Output cache (same run)"
    echo
    echo "GET /cached, which the workers answer with \`Cache-Control: public, max-age=60\`. *hits* = the master's"
    echo "cache hits during the point (\`supervisor status --json\`) over the requests wrk completed, median over"
    echo "the passes (above 100% by the requests in flight when wrk stopped); *vs uncached* = over the same 2"
    echo "workers under the supervisor without a cache (kernel dispatch, the default: every request answered"
    echo "by a worker); *vs nginx cache* = over nginx proxy_cache (microcaching) in front of 2 workers of the"
    echo "same app; *vs master dispatch* = over sup-rr (the same workers without a cache under master dispatch,"
    echo "the cache's own dispatch; GET /1/ and /2/, the same body)."
    for wl in "${WORKLOADS[@]}"; do
      echo
      workload_heading "$wl"
      echo
      echo "| configuration | req/s | hits | vs C | vs uncached | vs nginx cache | vs master dispatch |"
      echo "|---|---|---|---|---|---|---|"
      for id in "${cache_ids[@]}"; do
        k=$(kind_of "$id")
        rps=$(median_rps "$id" "$wl")
        read -r h _ _ < <(stat_col "${HITS[$id,$wl]:-}" 1)
        [ "$h" != "-" ] && h=$(awk -v h="$h" 'BEGIN { printf "%.1f%%", h * 100 }')
        vn="-"; vm="-"
        if [[ $id == sup-* ]]; then
          vn=$(ratio "$rps" "$(median_rps "nginx-cache-$k" "$wl")")
          vm=$(ratio "$rps" "$(median_rps "sup-rr-$k" "$wl")")
        fi
        echo "| ${LABEL[$id]} | $rps | $h | $(ratio "$rps" "$(median_rps ref "$wl")") | $(ratio "$rps" "$(median_rps "sup-nocache-$k" "$wl")") | $vn | $vm |"
      done
    done
    echo
    echo "The issue's figures (issue 19), the supervisor's cache hits:"
    echo
    for k in cpp node; do
      [[ " ${cache_ids[*]} " == *" sup-cache-$k "* ]] || continue
      c=$(median_rps "sup-cache-$k" close); a=$(median_rps "sup-cache-$k" keepalive)
      echo "- hello-$k: \`Connection: close\` $c req/s, $(times "$c" "$(median_rps ref close)") the C reference and $(times "$c" "$(median_rps "sup-nocache-$k" close)") the same workers uncached;"
      echo "  keep-alive $a req/s, $(times "$a" "$(median_rps "sup-nocache-$k" keepalive)") the same workers uncached and $(times "$a" "$(median_rps "nginx-cache-$k" keepalive)") nginx proxy_cache in front of them."
    done
    for id in "${NO_HITS[@]}"; do
      echo "- **$id: GET /cached came back without \`Age\`: the master's cache did not answer it; this row measures no hits.**"
    done
    echo
  fi
  echo "## Chat-room and sticky-room workloads"
  echo
  echo "Not in this script: bench/rooms.sh (WebSocket chat rooms) and bench/sticky.sh (sticky-room keep-alive,"
  echo "4 workers, wrk -t4, one /k/room path per thread) write their own tables."
  echo
  echo "## The master's cost per hand-off"
  echo
  echo "Instructions executed by the supervisor process (callgrind, $PRESET build, round_robin, 2 hello-cpp workers"
  echo "running natively) per connection, from $CG_CONNS sequential \`Connection: close\` connections minus a baseline"
  echo "run with none of equal length, over $CG_PAIRS pair(s) of runs (median, min–max):"
  echo
  echo "| dispatch | instructions per connection | min–max | target |"
  echo "|---|---|---|---|"
  echo "| master (accept + hand-off) | ${CG_PER[master]} | ${CG_LO[master]}–${CG_HI[master]} | ≤ 3,000 |"
  echo "| kernel (the slot's worker accepts) | ${CG_PER[kernel]} | ${CG_LO[kernel]}–${CG_HI[kernel]} | 0 |"
  echo
  echo "$PERF_NOTE"
  echo
  echo "## Notes"
  echo
  echo "- Dispatch: sup-rr, sup-ip and sup-url rows are \`dispatch: master\` (the master accepts each connection and hands it over), the \"kernel dispatch\" rows \`dispatch: kernel\` (each slot's worker accepts from its own SO_REUSEPORT socket; round_robin is then the kernel's spread by addresses and ports)."
  echo "- Every client connects from 127.0.0.1, so every address-hash router (supervisor \`ip_hash\`,"
  echo "  nginx \`hash \$remote_addr consistent\`, HAProxy \`balance source\`) sends all the traffic to one of its"
  echo "  2 workers: those rows show one worker's capacity behind that router, not a spread."
  echo "- URL rows route /1/ to worker 1 and /2/ to worker 2. nginx and HAProxy proxy every request; the supervisor peeks the first request's head (MSG_PEEK) and hands the connection over; on keep-alive, wrk alternates /1/ and /2/ on each connection, so every other request is handed back by the SDK and routed again (the worst case of per-request affinity)."
  echo "- Cache rows (GET /cached): sup-cache is \`cache: {}\` (every default), so master dispatch; a keep-alive connection's requests are answered by the master while they hit (the connection waits for its next request in the master, one poll handle for its life). The entry is stored before the measurement (a curl, then the warm-up): every measured request is a hit (the *hits* column), none is a worker's. nginx-cache: \`proxy_cache micro\` (keys_zone 10m), \`proxy_cache_valid 200 1s\`, \`proxy_cache_lock on\`, \`proxy_cache_use_stale updating\`, the workers' \`max-age=60\` taking precedence over the 1 s; round robin over 2 workers with the keep-alive upstream settings of the other nginx rows."
  [ "$IDLE_WAITED" -gt 0 ] && echo "- The script waited ${IDLE_WAITED}s in all for other work on the machine to settle before measurements."
  errs_total=$(for k in "${!RESULTS[@]}"; do printf '%s' "${RESULTS[$k]}"; done | awk '{ s += $7 } END { print s + 0 }')
  [ "$errs_total" -gt 0 ] && echo "- wrk reported $errs_total socket errors or non-2xx answers in all (see the errors column)."
  echo "- Run took $(( $(date +%s) - STARTED ))s."
} >"$OUT"

# --- charts -------------------------------------------------------------------------------
{
  echo "# label ka_med ka_min ka_max close_med close_min close_max ka_p99 ka_p99min ka_p99max close_p99 close_p99min close_p99max"
  for id in "${CONFIGS[@]}"; do
    line="\"${SHORT[$id]}\""
    for wl in "${WORKLOADS[@]}"; do line+=" $(stat_col "${RESULTS[$id,$wl]:-}" 1)"; done
    for wl in "${WORKLOADS[@]}"; do line+=" $(stat_col "${RESULTS[$id,$wl]:-}" 3)"; done
    echo "$line"
  done
} >"$WORK/chart.dat"
gnuplot <<GP
set terminal pngcairo size 1400,600 font "sans,10"
set datafile missing "-"
set style data histograms
set style histogram errorbars gap 2 lw 1
set style fill solid 0.8 border -1
set xtics rotate by -35 left nomirror
set grid ytics
set key top right
set bmargin 7
set rmargin 10   # the last rotated label runs past the plot
set yrange [0:*]
set output "$OUTDIR/throughput.png"
set terminal pngcairo size 1400,900 font "sans,10"
set multiplot layout 2,1 title "Requests per second (median, bars: min–max), wrk -t1 -c$CONNECTIONS on the same $(nproc) cores"
set ylabel "req/s"
set title "keep-alive"
plot "$WORK/chart.dat" using 2:3:4:xtic(1) title "keep-alive" lc rgb "#4477aa"
set title "Connection: close"
plot "$WORK/chart.dat" using 5:6:7:xtic(1) title "Connection: close" lc rgb "#cc6677"
unset multiplot
set terminal pngcairo size 1400,600 font "sans,10"
set output "$OUTDIR/p99.png"
set title "p99 latency in ms (median over passes, bars: min–max), log scale"
set ylabel "ms"
set logscale y
set yrange [0.1:*]
plot "$WORK/chart.dat" using 8:9:10:xtic(1) title "keep-alive" lc rgb "#4477aa", "" using 11:12:13 title "Connection: close" lc rgb "#cc6677"
GP

cat "$OUT"
log "wrote $OUT, $OUTDIR/throughput.png, $OUTDIR/p99.png in $(( $(date +%s) - STARTED ))s"
