#!/usr/bin/env bash
# promtool, for the tests' `promtool check metrics`, from Debian's prometheus package
# without installing that package: on a host with systemd it enables and starts the
# Prometheus server on :9090, and nothing `make deps` installs may start a service or
# take a port. The .deb is downloaded (apt-get download, no install) and only its
# promtool is extracted, into build/tools/bin.
#   promtool.sh install   unless build/tools/bin/promtool is there
#   promtool.sh path      its path (fails, saying why, when missing)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/build/tools/bin
tool=$bin/promtool

case ${1:-} in
  install)
    [ -x "$tool" ] && exit 0
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    cd "$work"
    # A fresh machine has no package lists yet (apt-get update needs root, as
    # `make deps` does for its packages).
    if ! apt-get download -qq prometheus 2>/dev/null; then
      apt-get update -qq
      apt-get download -qq prometheus
    fi
    dpkg-deb -x prometheus_*.deb extracted
    install -D -m 0755 extracted/usr/bin/promtool "$tool"
    echo "promtool.sh: promtool $("$tool" --version 2>&1 | awk 'NR == 1 { print $3 }') from Debian's prometheus package, in ${tool#"$root"/}"
    ;;
  path)
    [ -x "$tool" ] || { echo "promtool.sh: $tool is missing: run make deps" >&2; exit 1; }
    echo "$tool"
    ;;
  *)
    echo "usage: $0 install | path" >&2
    exit 2
    ;;
esac
