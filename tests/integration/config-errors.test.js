'use strict';
// A bad config exits non-zero before anything starts, naming the file, line, column and field.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const h = require('./helpers');

function write(yaml) {
  const file = path.join(h.tempDir(), 'bad.yaml');
  fs.writeFileSync(file, yaml);
  return file;
}

const good = (port, command = JSON.stringify([h.HELLO_CPP])) => `listeners:
  - address: 127.0.0.1:${port}
apps:
  - name: hello
    command: ${command}
`;

for (const mode of ['--config', 'check']) {
  const run = (file) => h.runSupervisor(mode === 'check' ? ['check', file] : ['--config', file]);

  test(`${mode}: unknown key, with a suggestion`, async () => {
    const file = write(good(8) + '    wrokers: 2\n');
    const r = await run(file);
    assert.strictEqual(r.code, 2);
    assert.match(r.stderr, new RegExp(`${file}:6:5: apps\\[0\\]\\.wrokers: unknown key \\(did you mean 'workers'\\?\\)`));
    assert.doesNotMatch(r.stderr, /event=spawn/);
  });

  test(`${mode}: wrong type`, async () => {
    const file = write(good(8) + '    workers: [1]\n');
    const r = await run(file);
    assert.strictEqual(r.code, 2);
    assert.match(r.stderr, new RegExp(`${file}:6:14: apps\\[0\\]\\.workers: expected an integer from 1 to 4096 or \`auto\`, got a list`));
  });

  test(`${mode}: a zero heartbeat interval, which would get every SDK worker killed as hung`, async () => {
    const file = write(good(8) + '    heartbeat: {interval: 0s}\n');
    const r = await run(file);
    assert.strictEqual(r.code, 2);
    assert.match(r.stderr, new RegExp(`${file}:6:27: apps\\[0\\]\\.heartbeat\\.interval: must be longer than 0s: `));
    assert.doesNotMatch(r.stderr, /event=spawn/);
  });

  test(`${mode}: a log_file in a directory that is not there`, async () => {
    const file = write(good(8) + 'log_file: no-such-dir/handoff.log\n');
    const r = await run(file);
    assert.strictEqual(r.code, 2);
    assert.match(r.stderr, new RegExp(`${file}:6:11: log_file: no such directory: .*no-such-dir`));
    assert.doesNotMatch(r.stderr, /event=spawn/);
  });

  test(`${mode}: a key written twice, at its second line, naming the first`, async () => {
    const file = write(good(8) + '    workers: 2\n    workers: 3\napps: []\n');
    const r = await run(file);
    assert.strictEqual(r.code, 2);
    assert.match(r.stderr, new RegExp(`${file}:7:5: apps\\[0\\]\\.workers: duplicate key \\(first at line 6\\)`));
    assert.match(r.stderr, new RegExp(`${file}:8:1: apps: duplicate key \\(first at line 3\\)`));
    assert.doesNotMatch(r.stderr, /event=spawn/);
  });

  test(`${mode}: an environment the OS would not start a worker with, with its size and the limit`, async () => {
    const file = write(good(8) + `    env: {BIG: ${'x'.repeat(200000)}}\n`);
    const r = await run(file);
    assert.strictEqual(r.code, 2);
    // execve refuses the one variable (at `env`); CreateProcess the whole block (at the app).
    assert.match(r.stderr, new RegExp(`${file}:\\d+:\\d+: apps\\[0\\](\\.env\\.BIG)?: .* is \\d+ .*accepts at most \\d+`));
    if (!h.WINDOWS) assert.match(r.stderr, new RegExp(`${file}:6:10: apps\\[0\\]\\.env\\.BIG: `));
    assert.doesNotMatch(r.stderr, /event=spawn/);
  });

  test(`${mode}: command not found`, async () => {
    const file = write(good(8, 'no-such-worker --flag'));
    const r = await run(file);
    assert.strictEqual(r.code, 2);
    assert.match(r.stderr, new RegExp(`${file}:5:14: apps\\[0\\]\\.command: command not found: "no-such-worker"`));
  });
}

test('check: a good config is ok and starts nothing', async () => {
  const file = write(good(8));
  const r = await h.runSupervisor(['check', file]);
  assert.strictEqual(r.code, 0);
  assert.match(r.stdout, /: ok/);
});

test('port in use: exit 2 naming the listener, and no worker started', async (t) => {
  const blocker = net.createServer();
  await new Promise((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const port = blocker.address().port;
  const file = write(good(port));
  const r = await h.runSupervisor(['--config', file]);
  assert.strictEqual(r.code, 2);
  assert.match(r.stderr, new RegExp(`${file}:2:14: listeners\\[0\\]\\.address: cannot listen on 127\\.0\\.0\\.1:${port}: address already in use`));
  assert.doesNotMatch(r.stderr, /event=spawn/);
});

test('a missing config file is reported', async () => {
  const r = await h.runSupervisor(['--config', '/nonexistent/cluster.yaml']);
  assert.notStrictEqual(r.code, 0);
  assert.match(r.stderr, /nonexistent\/cluster\.yaml/);
});
