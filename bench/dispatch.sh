#!/usr/bin/env bash
# The hand-off cost alone: the supervisor with 2 hello-cpp workers (round_robin, master
# dispatch and kernel dispatch) against one hello-cpp listening itself, keep-alive and `Connection: close`, in one run.
# A subset of bench/run.sh (same measurement, same options: --quick, --smoke, DURATION,
# REPEAT); the table goes to bench/results/tmp/latest.md.
exec env ONLY="direct-cpp sup-rr-cpp sup-krr-cpp" "$(dirname "$0")/run.sh" "$@"
