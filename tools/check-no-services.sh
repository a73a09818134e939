#!/usr/bin/env bash
# Fails when a Debian package of the given list ships a systemd unit that is enabled:
# nothing `make deps` installs may start a service or take a port (a Prometheus server
# on :9090 once did). Packages that are not installed are skipped, and so are those
# `make deps` cannot have installed: Essential ones (util-linux, with its fstrim.timer)
# and systemd, the init system of every host where a unit could start at all.
#   check-no-services.sh PACKAGE...
set -euo pipefail
failed=0
for package in "$@"; do
  [ "$package" = systemd ] && continue
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || continue
  [ "$(dpkg-query -W -f='${Essential}' "$package")" = yes ] && continue
  while read -r unit; do
    state=$(systemctl is-enabled "$(basename "$unit")" 2>/dev/null || true)
    case $state in
      enabled|enabled-runtime|linked|linked-runtime|alias)
        echo "check-no-services: $package enables $(basename "$unit") ($state)" >&2
        failed=1
        ;;
    esac
  done < <(dpkg -L "$package" | grep -E '^/(usr/)?lib/systemd/(system|user)/[^/]+\.(service|socket|timer|path)$' || true)
done
if [ "$failed" = 0 ]; then echo "check-no-services: no package of $# enables a systemd unit"; fi
exit "$failed"
