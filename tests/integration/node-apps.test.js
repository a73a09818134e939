'use strict';
// Node apps as people start them, and what the supervisor says when one does not fit:
// an app that listens on a port itself (a hint on each start failure, and 503 without
// waiting queue.timeout), `npm start` (refused by `check`; the real npm shows why: its own
// Node process keeps the IPC channel), `sh -c "node app.js"` (works), and `workers: auto`
// under taskset. Workers run on the runner's own Node (process.execPath), npm too.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const net = require('node:net');
const os = require('node:os');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const h = require('./helpers');

const NODE = h.NODE;
const LISTENS_ITSELF = path.join(__dirname, 'fixtures/listens-itself.js');
const CHANNEL_REPORT = path.join(__dirname, 'fixtures/channel-report.js');
const SERVES_AND_LISTENS = path.join(__dirname, 'fixtures/serves-and-listens.js');
// npm (`#!/usr/bin/env node`) and the scripts it runs find this Node first.
const WITH_THIS_NODE = { PATH: `${path.dirname(NODE)}${path.delimiter}${process.env.PATH}` };

// A fresh directory holding a package.json whose scripts.start runs `script` on this Node.
function npmProject(script) {
  const dir = h.tempDir();
  const start = `${JSON.stringify(NODE)} ${JSON.stringify(script)}`;
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0', private: true, scripts: { start } }));
  return { dir, start };
}

// The processes of the process group `leader` leads (a worker and what it started).
function groupOf(leader) {
  return h.processTable().filter((p) => p.pgid === leader).map((p) => p.pid);
}

const commandLine = (pid) => fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');

function cli(args) {
  const argv = h.supervisorArgv(args);
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: h.TIMEOUT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('an app that listens on a port itself: each start failure says so, and clients get 503 without waiting queue.timeout', async (t) => {
  const [alone, pinned, pair, own1, own2, own3] = await Promise.all(Array.from({ length: 6 }, () => h.freePort()));
  // Master dispatch: the log lines below are its queue's. (Under kernel dispatch the master
  // takes a failing slot's socket over: the next test.)
  const app = (name, listener, extra) => `  - name: ${name}
    command: ${JSON.stringify([NODE, LISTENS_ITSELF])}
    listeners: [${listener}]
    dispatch: master
    start_timeout: 2s
    queue: {timeout: 60s}
${extra}`;
  const sup = await h.startSupervisor(`listeners:
  - {address: "127.0.0.1:${alone}", name: alone}
  - {address: "127.0.0.1:${pinned}", name: pinned}
  - {address: "127.0.0.1:${pair}", name: pair}
apps:
${app('alone', 'alone', `    env: {OWN_PORT: "${own1}"}`)}
${app('pinned', 'pinned', `    policy: ip_hash\n    env: {OWN_PORT: "${own2}"}`)}
${app('pair', 'pair', `    workers: 2\n    env: {OWN_PORT: "${own3}"}`)}
`);
  t.after(() => sup.stop());
  await sup.log.waitFor(/event=spawn app=alone slot=1 /);
  await sup.log.waitFor(/event=spawn app=pinned slot=1 /);
  // Sent while the first workers start: they wait in the queue until the start fails.
  const sent = Date.now();
  const [first, second] = await Promise.all([h.request({ port: alone }), h.request({ port: pinned })]);
  const waited = Date.now() - sent;
  for (const r of [first, second]) {
    assert.strictEqual(r.status, 503);
    assert.ok(r.headers['retry-after'], 'a 503 from the master says when to retry');
  }
  assert.ok(waited < 30000, `answered at the start failure (2 s), not at queue.timeout (60 s): ${waited} ms`);
  const bound = (port) => `(\\[::\\]|0\\.0\\.0\\.0):${port}`;
  for (const [name, port] of [['alone', own1], ['pinned', own2]]) {
    await sup.log.waitFor(
      new RegExp(
        `event=start_failure app=${name} slot=1 pid=\\d+ generation=1 status="killed by signal 9" ` +
          `reason="no ready within start_timeout" hint="it never said hello, and it listens on ${bound(port)} itself; ` +
          'hand the server to serve\\(\\) from handoff-worker instead of calling listen\\(\\): the master owns the ports"',
      ),
    );
    // Without affinity it looked for another slot first; with it, it belonged here. 503 either way.
    await sup.log.waitFor(
      new RegExp(`event=queue_flushed app=${name} slot=1 connections=1 reason="no worker of this slot has been ready yet, and its start failed"`),
    );
  }
  // From now on, nothing waits for them: 503 at once, while the next start is under way.
  const again = await h.request({ port: alone });
  assert.strictEqual(again.status, 503);
  assert.doesNotMatch(sup.log.lines.join('\n'), /event=start_failure app=alone slot=1 pid=\d+ generation=2 /,
    'answered before the second start could fail');
  assert.doesNotMatch(sup.log.lines.join('\n'), /event=queue_timeout/);

  // Two copies of it: one takes the port, the other dies with EADDRINUSE, and says so.
  await sup.log.waitFor(
    new RegExp(
      'event=start_failure app=pair slot=\\d pid=\\d+ generation=\\d+ status="exit code 1" reason="[^"]+" ' +
        `hint="its output says the address is in use \\(\\\\"Error: listen EADDRINUSE: address already in use :::${own3}\\\\"\\): ` +
        'it listens on a port itself, one the master or another slot holds; hand the server to serve\\(\\) from handoff-worker',
    ),
  );
  await sup.log.waitFor(new RegExp(`event=start_failure app=pair slot=\\d .*hint="it never said hello, and it listens on ${bound(own3)} itself`));
});

test('an app that calls serve() and listen() both: the copies that cannot bind die with a hint to drop listen()', async (t) => {
  const [port, own] = [await h.freePort(), await h.freePort()];
  const sup = await h.startSupervisor(
    h.config({ port, command: [NODE, SERVES_AND_LISTENS], workers: 2, extra: `    env: {OWN_PORT: "${own}"}\n` }),
  );
  t.after(() => sup.stop());
  // Its hello and its death come close together: whether the master read the hello first
  // decides which of the two hints it gives, and both name the cause.
  const [, fix] = await sup.log.waitFor(
    new RegExp(
      `event=(?:exit|start_failure) app=hello slot=\\d pid=\\d+ generation=\\d+ status="exit code 1" .*` +
        `hint="its output says the address is in use \\(\\\\"Error: listen EADDRINUSE: address already in use :::${own}\\\\"\\): ` +
        '(it calls serve\\(\\) and also listens on a port itself, one the master or another slot holds; remove its ' +
        'listen\\(\\) call: under the supervisor serve\\(\\) is all it needs|it listens on a port itself, one the ' +
        'master or another slot holds; hand the server to serve\\(\\) from handoff-worker instead of calling listen\\(\\): ' +
        'the master owns the ports)"',
    ),
  );
  assert.ok(fix);
  // The copy that took the port serves all the same (kernel dispatch: the master takes the
  // crash-looping slot's socket over, so no client waits for it).
  await sup.log.waitFor(/event=ready app=hello slot=\d /);
  assert.strictEqual((await h.request({ port })).status, 200);
});

test('check refuses `npm start` and its kind, quoting scripts.start from the package.json in cwd', async () => {
  const { dir, start } = npmProject(CHANNEL_REPORT);
  const file = path.join(dir, 'cluster.yaml');
  const port = await h.freePort();
  const yaml = (command, extra = '') => `listeners:
  - address: 127.0.0.1:${port}
apps:
  - name: web
    command: ${command}
${extra}`;
  fs.writeFileSync(file, yaml('npm start'));
  for (const mode of [['check', file], ['--config', file]]) {
    const r = await h.runSupervisor(mode);
    assert.strictEqual(r.code, 2, r.stderr);
    assert.strictEqual(
      r.stderr.trim(),
      `${file}:5:14: apps[0].command: npm runs the app under a Node process of its own, which takes the IPC channel ` +
        '(fd 3) for itself, so the app never hears from the master (with `ready: on_spawn` too: the sockets would go ' +
        "to npm); put the script's command in `command` (variables it sets in `env`): package.json's scripts.start " +
        `is \`${start}\``,
    );
    assert.doesNotMatch(r.stderr + r.stdout, /event=spawn/);
  }
  fs.writeFileSync(file, yaml('["npx", "my-server"]', '    ready: on_spawn\n'));
  const npx = await h.runSupervisor(['check', file]);
  assert.strictEqual(npx.code, 2);
  assert.match(npx.stderr, /apps\[0\]\.command: npx runs the app under a Node process of its own.*run the app's program itself/);
  // What it says to do works: the script's command, as it is.
  fs.writeFileSync(file, yaml(JSON.stringify([NODE, CHANNEL_REPORT])));
  assert.strictEqual((await h.runSupervisor(['check', file])).code, 0);
});

test('behind the real npm the app never gets the channel: it never says hello, and its start failure says why', async (t) => {
  const { dir } = npmProject(CHANNEL_REPORT);
  const port = await h.freePort();
  // Through a shell, which check cannot see into.
  const sup = await h.startSupervisor(
    `listeners:
  - address: 127.0.0.1:${port}
apps:
  - name: web
    command: ["sh", "-c", "npm start"]
    cwd: ${JSON.stringify(dir)}
    start_timeout: 5s
`,
    { env: WITH_THIS_NODE },
  );
  t.after(() => sup.stop());
  await sup.log.waitFor(/event=output app=web slot=1 pid=\d+ stream=\w+ line="channel: none send: undefined"/);
  await sup.log.waitFor(
    /event=start_failure app=web slot=1 pid=\d+ generation=1 status="killed by signal 9" reason="no ready within start_timeout" hint="it never said hello: a Node app must call serve\(\) from handoff-worker \(a program without the SDK needs `ready: on_spawn`\), and be started by node itself, not through npm, npx, yarn or pnpm, whose own Node process keeps the IPC channel"/,
  );
});

test('with ready: on_spawn behind npm, the socket goes to npm\'s own process, which takes it and serves nothing', async (t) => {
  const { dir } = npmProject(CHANNEL_REPORT);
  const port = await h.freePort();
  const sup = await h.startSupervisor(
    `listeners:
  - address: 127.0.0.1:${port}
apps:
  - name: web
    command: ["sh", "-c", "npm start"]
    cwd: ${JSON.stringify(dir)}
    ready: on_spawn
`,
    { env: WITH_THIS_NODE, ready: 1 },
  );
  t.after(() => sup.stop());
  await sup.log.waitFor(/event=output app=web slot=1 pid=\d+ stream=\w+ line="channel: none send: undefined"/);
  const [, shell] = sup.log.lines.join('\n').match(/event=spawn app=web slot=1 pid=(\d+)/);
  const client = net.connect(port, '127.0.0.1');
  t.after(() => client.destroy());
  client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  const holder = await h.eventually(() => {
    const pids = groupOf(Number(shell)).filter((pid) => h.tcpConnections(pid) > 0);
    return { ok: pids.length === 1, pids };
  });
  assert.ok(holder.ok, `one process of the worker's group holds the connection: ${holder.pids}`);
  const held = commandLine(holder.pids[0]);
  assert.match(held, /npm/, `the holder is npm: ${held}`);
  assert.doesNotMatch(held, /channel-report/);
  assert.doesNotMatch(sup.log.lines.join('\n'), /event=kill/, 'npm acknowledged it, so the master sees nothing wrong');
});

test('sh -c "node app.js" works: the shell passes fd 3 and the environment on to the app', async (t) => {
  const port = await h.freePort();
  const script = `${JSON.stringify(NODE)} ${JSON.stringify(h.HELLO_NODE)}; exit $?`; // `; exit`: the shell stays its parent
  const sup = await h.startSupervisor(h.config({ port, command: ['sh', '-c', script], workers: 1 }), { ready: 1 });
  t.after(() => sup.stop());
  const [, shell] = sup.log.lines.join('\n').match(/event=spawn app=hello slot=1 pid=(\d+)/);
  const r = await h.request({ port });
  assert.strictEqual(r.status, 200);
  const { slot, pid } = h.workerOf(r);
  assert.strictEqual(slot, 1);
  assert.notStrictEqual(pid, Number(shell), 'the app answered, not the shell');
  assert.strictEqual(h.parentPid(pid), Number(shell), 'a child of the shell, which passed the channel on');
});

async function slotsUnder(cpus) {
  const port = await h.freePort();
  const sup = await h.startSupervisor(h.config({ port, command: [h.HELLO_CPP], workers: 'auto' }), {
    prefix: ['taskset', '-c', cpus],
  });
  try {
    await sup.log.waitFor(/event=cluster_ready/);
    const r = cli(['status', '--json', '--config', sup.file]);
    assert.strictEqual(r.code, 0, r.stderr);
    return JSON.parse(r.stdout).slots.map((s) => s.slot);
  } finally {
    await sup.stop();
  }
}

test('workers: auto is one worker per CPU the supervisor may use: taskset -c 0 gives 1', async () => {
  assert.deepStrictEqual(await slotsUnder('0'), [1]);
  if (os.availableParallelism() >= 2) assert.deepStrictEqual(await slotsUnder('0,1'), [1, 2]);
});
