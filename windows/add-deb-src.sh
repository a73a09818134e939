#!/usr/bin/env bash
# Adds a deb-src entry for Debian's main archive (the one apt already uses for binaries),
# so that `apt-get source` can fetch libuv1 and yaml-cpp. Idempotent; needs root.
set -euo pipefail
list=/etc/apt/sources.list.d/handoff-deb-src.sources
[ -f "$list" ] && exit 0
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
cat >"$list" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $codename $codename-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
apt-get update -qq
