#!/usr/bin/env bash
# Runs a Windows program under wine64 in the project's own prefix, headless:
#   windows/wine-run.sh PROGRAM.exe [args...]
# The prefix lives in the build tree (WINEPREFIX, default build-windows/wineprefix). Its
# first boot (about 10 s) and a persistent wineserver are started here once, with their
# output sent to a file: wine's background services inherit the stdio of whoever starts
# them, and a service holding a test's pipe open would keep that test from ever ending.
# After that each start takes milliseconds, and the program is exec'd: same pid, so a
# SIGINT to it reaches the program's console control handler (Ctrl+C).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export WINEPREFIX=${WINEPREFIX:-$here/../build-windows/wineprefix}
export WINEDEBUG=${WINEDEBUG:--all}
export WINEDLLOVERRIDES=${WINEDLLOVERRIDES:-mscoree,mshtml=}  # no Mono/Gecko install prompts
WINE=${WINE:-/usr/lib/wine/wine64}
WINESERVER=${WINESERVER:-/usr/lib/wine/wineserver}
mkdir -p "$WINEPREFIX"
WINEPREFIX=$(cd "$WINEPREFIX" && pwd)

boot() {
  # One booter at a time; the others wait for it (flock on a file in the prefix).
  exec 9>"$WINEPREFIX/.boot.lock"
  flock 9
  # `wineserver -p` exits 0 when it started a server, 2 when one already runs for this
  # prefix: a fresh server has no services yet, so boot (which starts them) now.
  local fresh=0
  "$WINESERVER" -p </dev/null >>"$WINEPREFIX/boot.log" 2>&1 && fresh=1
  if [ "$fresh" = 1 ] || [ ! -f "$WINEPREFIX/.booted" ]; then
    # A program that exits at once boots the prefix (creating it the first time) the way
    # any first program does. Not `wineboot --init`: the services it starts are still
    # shutting down when the next program starts its own, and with two service managers
    # at once driver services (HTTP.SYS among them) never start (error 1053/1055).
    timeout 300 "$WINE" cmd /c exit </dev/null >>"$WINEPREFIX/boot.log" 2>&1
    touch "$WINEPREFIX/.booted"
  fi
  flock -u 9
  exec 9>&-
}
boot
exec "$WINE" "$@"
