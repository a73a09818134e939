'use strict';
// The SDK as users get it: the tarball that the build packs (npm pack, into the build
// tree), installed by npm into a fresh directory. Offline: the package has no
// dependencies, so npm needs nothing from the registry (--offline, an empty cache).

const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const SDK = path.join(ROOT, 'worker-sdk', 'node');
const manifest = JSON.parse(fs.readFileSync(path.join(SDK, 'package.json'), 'utf8'));
// ctest says where the build put it; by hand, the default build tree.
const TARBALL =
  process.env.HANDOFF_NODE_PACKAGE ?? path.join(ROOT, 'build', `${manifest.name}-${manifest.version}.tgz`);
const NPM = process.env.HANDOFF_NPM ?? 'npm';

const dirs = [];
process.on('exit', () => dirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

// A new directory with a package.json of its own and the tarball installed in it.
function installTarball() {
  if (!fs.existsSync(TARBALL)) throw new Error(`${TARBALL} is missing: build first (make, or cmake --build --preset default)`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-package-'));
  dirs.push(dir);
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
  execFileSync(
    NPM,
    ['install', '--offline', '--no-audit', '--no-fund', '--ignore-scripts', '--cache', path.join(dir, '.npm-cache'), TARBALL],
    { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return dir;
}

module.exports = { ROOT, SDK, manifest, TARBALL, installTarball };
