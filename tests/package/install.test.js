'use strict';
// `npm install handoff-worker-X.tgz` (the build's tarball) gives a package that loads
// with require() and import, holding the files its manifest lists and nothing else.

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const { manifest, TARBALL, installTarball } = require('./install');

const EXPORTS = ['PROTOCOL_VERSION', 'info', 'serve', 'worker'];

// Runs JavaScript in `dir` on the Node running this test; returns its stdout.
function run(dir, args) {
  return execFileSync(process.execPath, args, { cwd: dir, encoding: 'utf8' });
}

test('npm install of the tarball, offline, gives a package that require() and import load', async () => {
  const dir = installTarball();
  const installed = path.join(dir, 'node_modules', manifest.name);
  assert.equal(JSON.parse(fs.readFileSync(path.join(installed, 'package.json'), 'utf8')).version, manifest.version);

  const required = JSON.parse(run(dir, ['-e', "const w = require('handoff-worker'); console.log(JSON.stringify({ keys: Object.keys(w), worker: w.info() }))"]));
  for (const name of EXPORTS) assert.ok(required.keys.includes(name), `require: ${name} in ${required.keys}`);
  assert.equal(required.worker.supervised, false);

  const imported = run(dir, ['--input-type=module', '-e', "import { serve, info, worker } from 'handoff-worker'; console.log(typeof serve, typeof info, worker.slot)"]);
  assert.equal(imported.trim(), 'function function 0');
});

test('the tarball holds the files package.json lists, and the manifest', () => {
  const listed = execFileSync('tar', ['-tzf', TARBALL], { encoding: 'utf8' })
    .split('\n')
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ''))
    .sort();
  const sdk = path.dirname(require.resolve('../../worker-sdk/node/package.json'));
  const expected = [...manifest.files.filter((f) => fs.existsSync(path.join(sdk, f))), 'package.json'].sort();
  assert.deepEqual(listed, expected);
  // What the manifest points at is in it.
  for (const entry of [manifest.main, manifest.types, manifest.exports['.'].types, manifest.exports['.'].default]) {
    assert.ok(listed.includes(entry.replace(/^\.\//, '')), entry);
  }
});

test('the package has no dependencies (prom-client: an optional peer) and says which Node it needs', () => {
  for (const key of ['dependencies', 'optionalDependencies']) assert.equal(manifest[key], undefined, key);
  // serve(app, { metrics: register }) takes a prom-client Registry; the SDK never loads it.
  assert.deepEqual(Object.keys(manifest.peerDependencies), ['prom-client']);
  assert.deepEqual(manifest.peerDependenciesMeta, { 'prom-client': { optional: true } });
  assert.equal(manifest.engines.node, '>=20');
  assert.equal(manifest.license, 'MIT');
});
