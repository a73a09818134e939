#!/usr/bin/env bash
# Installs Debian packages that ship a service of their own which must not run here
# (HAProxy and nginx: the tests start their own, with their own configs): nothing is
# started during the install (a policy-rc.d that says no), and their units are disabled
# afterwards, so that none starts at the next boot either; tools/check-no-services.sh
# checks that. Packages already installed, and their services, are left as they are.
#   tools/install-without-service.sh PACKAGE...
set -euo pipefail
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -gt 0 ] || exit 0
if [ "$(id -u)" != 0 ]; then
  echo "install them as root: apt-get install -y ${missing[*]}" >&2
  exit 1
fi
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  trap 'rm -f "$policy"' EXIT
fi
echo "installing ${missing[*]} (their services neither started nor enabled)"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
for p in "${missing[@]}"; do
  dpkg -L "$p" | grep -E '^/(usr/)?lib/systemd/system/[^/]+\.(service|socket|timer)$' | while read -r unit; do
    systemctl disable "$(basename "$unit")" >/dev/null 2>&1 || true
  done
done
"$(dirname "$0")/check-no-services.sh" "${missing[@]}"
