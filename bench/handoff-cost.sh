#!/usr/bin/env bash
# The master's instructions per hand-off alone (callgrind; the method: docs/benchmarks.md),
# with the functions that cost them: N sequential `Connection: close` connections minus a
# baseline run of equal length, 2 workers, PAIRS times.
#
#   bench/handoff-cost.sh                      round_robin, 2 hello-cpp, 2000 connections, 2 pairs
#   POLICY=url_segment bench/handoff-cost.sh   {url_segment: {index: 1, direct: true}}, /1/ and /2/ in turn
#   WORKER=node bench/handoff-cost.sh          2 hello-node workers
#   DISPATCH=kernel bench/handoff-cost.sh      `dispatch: kernel` (default master: the master accepts and
#                                              hands over); under kernel each slot's worker accepts from its
#                                              own SO_REUSEPORT socket, so the figure should be ~0
#   N=500 PAIRS=1 PRESET=default bench/handoff-cost.sh
#   KEEP=dir bench/handoff-cost.sh             keeps the last pair's profiles (callgrind_annotate them)
#
# Prints one line per pair and, for the last pair, the inclusive instructions per connection
# of the hand-off path's functions (profile with N connections minus the baseline's, / N).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
source "$ROOT/bench/lib.sh"
bench_mode "" "${1:-}"
N=${N:-2000}; PAIRS=${PAIRS:-2}; PRESET=${PRESET:-release}; WORKER=${WORKER:-cpp}; POLICY=${POLICY:-round_robin}
DISPATCH=${DISPATCH:-master}
case $DISPATCH in kernel|master) ;; *) echo "DISPATCH must be kernel or master" >&2; exit 2 ;; esac
[ "$DISPATCH" = kernel ] && [ "$POLICY" = url_segment ] && { echo "url_segment is always master dispatch" >&2; exit 2; }
CG_DISPATCH=$DISPATCH
bench_begin handoff-cost
ensure_commands valgrind:valgrind
[ -n "${NO_BUILD:-}" ] || cmake --preset "$PRESET" >/dev/null
[ -n "${NO_BUILD:-}" ] || cmake --build --preset "$PRESET" >/dev/null
BIN=$ROOT/build$([ "$PRESET" = default ] || echo "-$PRESET")/bin
command=$BIN/hello-cpp; [ "$WORKER" = node ] && command="node $ROOT/examples/hello-node/server.js"
policy=$POLICY; paths=/
[ "$POLICY" = url_segment ] && { policy="{url_segment: {index: 1, direct: true}}"; paths=/1/,/2/; }

for pair in $(seq 1 "$PAIRS"); do
  callgrind_pair "$N" "$policy" "$command" "$paths"
  read -r ir_n ir_0 secs per <<<"$CG_PAIR"
  echo "pair $pair: $per instructions per connection ($ir_n - $ir_0 over $N connections in ${secs}s; $POLICY, dispatch: $DISPATCH, $WORKER workers, $(uptime | sed 's/.*load/load/'))"
done

# Inclusive cost by function, per connection: the functions of the hand-off path.
inclusive() { callgrind_annotate --inclusive=yes --threshold=100 "$1" 2>/dev/null |
  awk '/^ *[0-9,]+ +\(/ || /^ *[0-9,]+  / { n = $1; gsub(",", "", n); $1 = ""; sub(/^ +/, ""); sub(/^\([^)]*\) +/, ""); print n "\t" $0 }'; }
inclusive "$CG_OUT_N" >"$WORK/incl-n"
inclusive "$CG_OUT_0" >"$WORK/incl-0"
if [ -n "${KEEP:-}" ]; then mkdir -p "$KEEP"; cp "$CG_OUT_N" "$CG_OUT_0" "$KEEP/"; echo "profiles in $KEEP"; fi
echo
echo "inclusive instructions per connection (last pair), functions above 100 per connection:"
awk -F'\t' -v n="$N" 'NR == FNR { base[$2] = $1; next } { d = ($1 - base[$2]) / n; if (d >= 100) printf "%8.0f  %s\n", d, $2 }' \
  "$WORK/incl-0" "$WORK/incl-n" | sort -rn | awk -v top="${TOP:-60}" 'NR <= top'
