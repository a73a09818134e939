#!/usr/bin/env bash
# tools/npm-ci.sh DIR [NPM-CI-OPTIONS...]: `npm ci` in DIR (a package.json and its
# package-lock.json), unless DIR/node_modules already holds every package of the lock at
# its locked version, so that `make deps` costs nothing the second time.
set -euo pipefail
dir=$1; shift
# Every package the lock names (optional ones only where npm installed them: they are
# per platform) is in node_modules with the locked version.
installed() {
  node -e '
    const fs = require("fs"), path = require("path");
    const dir = process.argv[1];
    const lock = JSON.parse(fs.readFileSync(path.join(dir, "package-lock.json"), "utf8"));
    for (const [where, entry] of Object.entries(lock.packages)) {
      if (!where.startsWith("node_modules/") || entry.link) continue;
      let version;
      try {
        version = JSON.parse(fs.readFileSync(path.join(dir, where, "package.json"), "utf8")).version;
      } catch {
        if (entry.optional) continue;
        process.exit(1);
      }
      if (version !== entry.version) process.exit(1);
    }' "$dir"
}
if installed; then
  echo "make deps: $dir: npm packages up to date"
  exit 0
fi
echo "make deps: $dir: npm ci"
(cd "$dir" && npm ci --no-audit --no-fund "$@")
