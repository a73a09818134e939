'use strict';
// Kernel dispatch seen from outside (Linux): the master never sees the connections its
// slots' sockets queue, so it reads each socket's accept queue from the kernel every
// second (status --json kernel_queued, /metrics handoff_kernel_queue_depth, the QUEUE
// column); and it compares the sockets listening on the group's address with its own, so
// that a stranger (another process bound there with SO_REUSEPORT, taking a share of the
// connections) is logged with its pid, shown in status and counted in /metrics, and its
// departure too. C++ workers only; the stranger is a Node server with `reusePort` (Node >=
// 23.1: this file runs on the default Node, tests/integration/without-node-workers.txt).
const test = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const h = require('./helpers');

// Debian's promtool, as observability.test.js uses it (tools/promtool/promtool.sh).
const PROMTOOL = execFileSync(path.join(h.ROOT, 'tools/promtool/promtool.sh'), ['path'], { encoding: 'utf8' }).trim();

async function status(sup) {
  const r = await h.cli(sup, ['status', '--json']);
  assert.strictEqual(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

function metrics(port) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      })
      .on('error', reject);
  });
}

// The value of one series of /metrics (labels matched as given), or undefined.
function sample(text, name, labels) {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    const space = line.lastIndexOf(' ');
    const series = line.slice(0, space);
    if (series.split('{')[0] !== name) continue;
    if (want.every((w) => series.includes(w))) return Number(line.slice(space + 1));
  }
  return undefined;
}

// One app of one C++ worker under kernel dispatch (one slot: every connection reaches its
// socket), with the admin endpoint for /metrics.
// `extra`: more lines of the app.
async function start(t, extra = '') {
  const [port, adminPort] = [await h.freePort(), await h.freePort()];
  const yaml =
    `admin: 127.0.0.1:${adminPort}\n` + h.config({ port, command: [h.HELLO_CPP], workers: 1, extra: '    dispatch: kernel\n' + extra });
  const sup = await h.startSupervisor(yaml, { ready: 1 });
  t.after(() => sup.stop());
  await sup.log.waitFor(/event=kernel_queue_given app=hello slot=1 /);
  return { port, adminPort, sup };
}

test('a stopped worker: connections waiting in its slot socket show in status, top and /metrics, and leave', async (t) => {
  // A stopped worker sends no heartbeat: the timeout is far beyond the test, so the worker
  // that comes back is the one stopped (and SIGCONT has someone to wake).
  const { port, adminPort, sup } = await start(t, '    heartbeat: {interval: 1s, timeout: 300s}\n');
  // The master's first sample (once a second) shows the socket's backlog.
  const first = await h.eventually(async () => {
    const s = (await status(sup)).slots.find((x) => x.app === 'hello' && x.slot === 1);
    return { ok: s.kernel_backlog > 0, s };
  });
  assert.ok(first.ok, JSON.stringify(first.s));
  assert.strictEqual(first.s.kernel_queued, 0);
  const pid = first.s.pid;

  // The worker stops accepting: the kernel completes the handshakes and queues them.
  process.kill(pid, 'SIGSTOP');
  let stopped = true;
  const sockets = [];
  t.after(() => {
    if (stopped) process.kill(pid, 'SIGCONT');
    for (const s of sockets) s.destroy();
  });
  const K = 5;
  for (let i = 0; i < K; i++) {
    const s = net.connect({ port, host: '127.0.0.1' });
    s.on('error', () => {});
    sockets.push(s);
    await new Promise((resolve, reject) => s.once('connect', resolve).once('error', reject));
  }
  // Sampled once a second by the master.
  const queued = await h.eventually(async () => {
    const s = (await status(sup)).slots.find((x) => x.slot === 1);
    return { ok: s.kernel_queued >= K, s };
  });
  assert.ok(queued.ok, JSON.stringify(queued.s));
  const m = await h.eventually(async () => {
    const text = await metrics(adminPort);
    return { ok: sample(text, 'handoff_kernel_queue_depth', { app: 'hello', slot: 1 }) >= K, text };
  });
  assert.ok(m.ok, m.text);
  assert.ok(sample(m.text, 'handoff_kernel_queue_backlog', { app: 'hello', slot: 1 }) > 0);
  // The master's own queue saw none of them.
  assert.strictEqual(sample(m.text, 'handoff_connections_queued', { app: 'hello', slot: 1 }), 0);
  // The table (status and top): QUEUE counts them.
  const table = await h.cli(sup, ['status']);
  const rows = table.stdout.trim().split('\n');
  const columns = rows[0].split(/\s{2,}/);
  const row = rows.find((r) => r.startsWith('hello ')).split(/\s+/);
  assert.ok(Number(row[columns.indexOf('QUEUE')]) >= K, table.stdout);
  // `top` draws the same table every second.
  const argv = h.supervisorArgv(['top', '--config', sup.file]);
  const top = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => top.kill('SIGKILL'));
  const topExited = new Promise((resolve) => top.on('exit', resolve));
  let screen = '';
  top.stdout.setEncoding('utf8');
  top.stdout.on('data', (d) => (screen += d));
  // APP SLOT PID STATE GEN UPTIME RESTARTS CONNS QUEUE
  const drawn = await h.eventually(() => {
    const queues = [...screen.matchAll(/^hello\s+1\s+\d+\s+\S+\s+\d+\s+\S+\s+\d+\s+\d+\s+(\d+)\s/gm)].map((m) => Number(m[1]));
    return { ok: queues.some((q) => q >= K), screen };
  });
  assert.ok(drawn.ok, drawn.screen);
  top.stdin.write('q');
  const late = new Promise((resolve) => setTimeout(() => resolve('still running'), h.TIMEOUT).unref());
  assert.strictEqual(await Promise.race([topExited, late]), 0, screen);

  process.kill(pid, 'SIGCONT');
  stopped = false;
  const drained = await h.eventually(async () => {
    const s = (await status(sup)).slots.find((x) => x.slot === 1);
    return { ok: s.kernel_queued === 0, s };
  });
  assert.ok(drained.ok, JSON.stringify(drained.s));
  assert.strictEqual(sample(await metrics(adminPort), 'handoff_kernel_queue_depth', { app: 'hello', slot: 1 }), 0);
  // Closed now, not at the end: the worker's drain at stop would wait for them.
  for (const s of sockets) s.destroy();
});

test('a stranger in the group: another process listening on the address with SO_REUSEPORT is reported, and its departure', async (t) => {
  const { port, adminPort, sup } = await start(t);
  assert.strictEqual(sample(await metrics(adminPort), 'handoff_kernel_group_strangers', { app: 'hello' }), 0);
  assert.deepStrictEqual((await status(sup)).warnings, []);

  const stranger = spawn(
    process.execPath,
    [
      '-e',
      `require('node:net').createServer((c) => c.destroy())
         .listen({ host: '127.0.0.1', port: ${port}, reusePort: true, exclusive: false }, () => console.log('listening'))`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise((resolve) => stranger.on('exit', resolve));
  t.after(() => stranger.kill('SIGKILL'));
  await new Promise((resolve, reject) => {
    stranger.stdout.on('data', (d) => d.toString().includes('listening') && resolve());
    stranger.on('exit', (code) => reject(new Error(`the stranger exited (${code}) before it listened`)));
  });

  const seen = await sup.log.waitFor(
    new RegExp(`event=kernel_group_stranger app=hello listener=\\S+ address=127\\.0\\.0\\.1:${port} inode=(\\d+) uid=\\d+ pid=${stranger.pid} `),
  );
  const s = await status(sup);
  assert.strictEqual(s.slots[0].kernel_strangers, 1, JSON.stringify(s));
  assert.strictEqual(s.slots[0].stranger_pid, stranger.pid);
  assert.strictEqual(s.warnings.length, 1);
  assert.match(s.warnings[0], new RegExp(`app hello: 1 stranger.*\\(pid ${stranger.pid}\\)`));
  const table = await h.cli(sup, ['status']);
  assert.match(table.stdout, new RegExp(`\\nWARNING: app hello: 1 stranger.*pid ${stranger.pid}`));
  const text = await metrics(adminPort);
  assert.strictEqual(sample(text, 'handoff_kernel_group_strangers', { app: 'hello' }), 1);
  // The kernel families pass the format's checks with the others.
  const lint = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.strictEqual(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}\n${text}`);

  stranger.kill('SIGTERM');
  await exited;
  await sup.log.waitFor(new RegExp(`event=kernel_group_stranger_gone app=hello listener=\\S+ address=127\\.0\\.0\\.1:${port} inode=${seen[1]} pid=${stranger.pid} `));
  const after = await status(sup);
  assert.strictEqual(after.slots[0].kernel_strangers, 0);
  assert.deepStrictEqual(after.warnings, []);
  assert.strictEqual(sample(await metrics(adminPort), 'handoff_kernel_group_strangers', { app: 'hello' }), 0);
  // Reported once each way, not at every check.
  assert.strictEqual(sup.log.lines.filter((l) => l.includes('event=kernel_group_stranger ')).length, 1);
});
