'use strict';
// `make install` and `make deb` (cmake/install/): what they install, a C++ worker built
// outside the tree against the installed SDK with find_package(handoff) and served by the
// installed supervisor, the installed systemd unit as systemd-analyze judges it, and the
// .deb's files. Nothing here installs into this machine: a temporary prefix, and the
// package is only listed.

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const BUILD = process.env.HANDOFF_BUILD_DIR;
const NODE_PACKAGE = path.basename(process.env.HANDOFF_NODE_PACKAGE);
const TOP = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-install-'));
process.on('exit', () => fs.rmSync(TOP, { recursive: true, force: true }));
// The prefix names the unit's paths: real ones here, so that systemd-analyze verify finds
// the binary. (The package shows DESTDIR: staged, its unit says /usr/bin/supervisor.)
const PREFIX = path.join(TOP, 'usr');
// The integration helpers run the supervisor of HANDOFF_BIN: the installed one.
process.env.HANDOFF_BIN = path.join(PREFIX, 'bin');
const h = require('../integration/helpers');

// Every file installed, relative to the prefix (cmake/install/install.cmake).
const FILES = [
  'bin/supervisor',
  'include/handoff/worker.h',
  'include/handoff/protocols/defaults.h',
  'lib/handoff/libhandoff_worker.a',
  'lib/handoff/libhandoff_uvglue.a',
  'lib/handoff/libhandoff_protocols.a',
  'lib/handoff/libllhttp.a',
  'lib/cmake/handoff/handoff-config.cmake',
  'lib/cmake/handoff/handoff-config-version.cmake',
  `share/handoff/node/${NODE_PACKAGE}`,
  'lib/systemd/system/handoff.service',
  'share/doc/handoff/cluster.yaml.example',
  'share/doc/handoff/systemd.md',
].sort();

// The files under a directory, relative to it.
function listFiles(dir) {
  return fs.readdirSync(dir, { recursive: true }).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
}

const run = (program, args, options = {}) => execFileSync(program, args, { encoding: 'utf8', timeout: 120000, ...options });

test('cmake --install: a worker built outside the tree with find_package(handoff) answers under the installed supervisor', async (t) => {
  run('cmake', ['--install', BUILD, '--prefix', PREFIX]);
  assert.deepEqual(listFiles(PREFIX), FILES);

  const consumer = path.join(TOP, 'consumer');
  run('cmake', ['-S', path.join(__dirname, 'consumer'), '-B', consumer, '-G', 'Ninja', `-DCMAKE_PREFIX_PATH=${PREFIX}`]);
  run('cmake', ['--build', consumer]);

  const port = await h.freePort();
  const sup = await h.startSupervisor(h.config({ port, command: [path.join(consumer, 'installed-worker')], workers: 1 }), {
    ready: 1,
  });
  t.after(() => sup.stop());
  const res = await h.request({ port });
  assert.equal(res.status, 200);
  assert.equal(res.body, 'installed worker\n');

  // The example config is valid once its app's directory exists.
  const example = fs.readFileSync(path.join(PREFIX, 'share/doc/handoff/cluster.yaml.example'), 'utf8');
  const file = path.join(TOP, 'cluster.yaml');
  fs.writeFileSync(file, example.replaceAll('/srv/web', TOP));
  assert.match(run(path.join(PREFIX, 'bin/supervisor'), ['check', file]), /: ok$/m);
});

test('the installed unit passes systemd-analyze verify, with an exposure of at most 4.0', () => {
  const unit = path.join(PREFIX, 'lib/systemd/system/handoff.service');
  assert.match(fs.readFileSync(unit, 'utf8'), new RegExp(`^ExecStart=${PREFIX}/bin/supervisor --config ${PREFIX}/etc/handoff/cluster.yaml$`, 'm'));
  const verify = spawnSync('systemd-analyze', ['verify', unit], { encoding: 'utf8', timeout: 60000 });
  assert.equal(verify.status, 0, verify.stderr);
  assert.doesNotMatch(verify.stderr, /handoff\.service/, 'no complaint about the unit');
  const security = spawnSync('systemd-analyze', ['security', '--offline=true', '--no-pager', unit], { encoding: 'utf8', timeout: 60000 });
  const level = security.stdout.match(/Overall exposure level for handoff\.service: (\d+\.\d+)/);
  assert.ok(level, security.stdout + security.stderr);
  assert.ok(Number(level[1]) <= 4.0, `exposure ${level[1]}:\n${security.stdout}`);
});

test('make deb: a package of the same files under /usr, its runtime dependencies, no maintainer scripts', () => {
  const out = path.join(TOP, 'deb');
  run('cpack', ['-G', 'DEB', '--config', path.join(BUILD, 'CPackConfig.cmake'), '-B', out]);
  const [deb] = fs.readdirSync(out).filter((f) => f.endsWith('.deb'));
  assert.ok(deb, `no .deb in ${fs.readdirSync(out)}`);
  const file = path.join(out, deb);
  const listed = run('dpkg-deb', ['-c', file])
    .split('\n')
    .filter((l) => l.startsWith('-'))
    .map((l) => l.split(/\s+/).pop().replace(/^\.\/usr\//, ''))
    .sort();
  assert.deepEqual(listed, FILES);
  const depends = run('dpkg-deb', ['-f', file, 'Depends']);
  for (const library of ['libuv1', 'libxxhash0', 'libyaml-cpp', 'libsystemd0']) assert.match(depends, new RegExp(library));
  // Installing it starts nothing: control and md5sums only, no postinst that enables the unit.
  const control = path.join(TOP, 'control');
  run('dpkg-deb', ['-e', file, control]);
  assert.deepEqual(fs.readdirSync(control).sort(), ['control', 'md5sums']);
  const root = path.join(TOP, 'root');
  run('dpkg-deb', ['-x', file, root]);
  const unit = fs.readFileSync(path.join(root, 'usr/lib/systemd/system/handoff.service'), 'utf8');
  assert.match(unit, /^ExecStart=\/usr\/bin\/supervisor --config \/etc\/handoff\/cluster\.yaml$/m);
});
