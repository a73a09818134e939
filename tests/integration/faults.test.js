'use strict';
// The master survives every worker fault (DESIGN "Faults the master survives"): peers that
// go away, workers that break the channel's protocol, hang, or flood it; descriptor
// limits; its own SIGKILL. Each case asserts that the master stays alive (helpers.js fails
// the test at once, with its exit status, if it dies), that a bad worker is killed and
// replaced, that other slots keep serving, and that the master's CPU and memory stay flat.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const h = require('./helpers');

const FAULT_WORKER = path.join(h.BIN, 'fault-worker');
const PLAIN_NODE_HELD = path.join(__dirname, 'fixtures', 'plain-holder.js');

// CPU seconds (user + system) and resident bytes of a process, from /proc.
function usage(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
  const rss = Number(fs.readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')[1]) * 4096;
  return { cpu: ticks / 100, rss, at: Date.now() };
}

// The master did not spin or swell between `before` and now.
function assertFlat(pid, before, what) {
  const now = usage(pid);
  const wall = (now.at - before.at) / 1000;
  const cpu = now.cpu - before.cpu;
  assert.ok(cpu < 0.5 * wall + 0.5, `${what}: the master used ${cpu.toFixed(2)} s of CPU in ${wall.toFixed(2)} s`);
  const grown = (now.rss - before.rss) / 1e6;
  // Under ASan freed memory waits in its quarantine (256 MB by default), so resident memory
  // grows with the work done, leak or not; LeakSanitizer checks leaks at the master's exit.
  if (process.env.HANDOFF_SANITIZED) return;
  assert.ok(grown < 50, `${what}: the master's memory grew by ${grown.toFixed(1)} MB`);
}

function signalBit(pid, field, signal) {
  const line = fs.readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith(`${field}:`));
  return (BigInt(`0x${line.split(/\s+/)[1]}`) >> BigInt(signal - 1)) & 1n;
}
const SIGPIPE = 13;

function pidsOf(sup, app) {
  return [...sup.log.lines.join('\n').matchAll(new RegExp(`event=spawn app=${app} slot=\\d+ pid=(\\d+)`, 'g'))].map((m) =>
    Number(m[1]),
  );
}

// Every process whose parent is `pid`.
function childrenOf(pid) {
  return h.processTable().filter((p) => p.ppid === pid).map((p) => p.pid);
}

test('the master ignores SIGPIPE though its parent left it at the default; its workers get the default', async (t) => {
  const port = await h.freePort();
  const sup = await h.startSupervisor(
    h.config({ port, command: ['sh', '-c', 'exec sleep 600'], workers: 1, extra: '    ready: on_spawn\n' }),
    { ready: 1 },
  );
  t.after(() => sup.stop());
  // Node starts children with every signal at its default: this is what a shell does too.
  assert.strictEqual(signalBit(sup.pid, 'SigIgn', SIGPIPE), 1n, 'the master ignores SIGPIPE');
  const [worker] = pidsOf(sup, 'hello');
  assert.strictEqual(signalBit(worker, 'SigIgn', SIGPIPE), 0n, 'a worker starts with SIGPIPE at its default');
});

test('SIGKILL a worker every 2 s under connection-per-request load: the master lives and keeps serving', async (t) => {
  const port = await h.freePort();
  const sup = await h.startSupervisor(
    h.config({ port, command: [h.HELLO_CPP], workers: 4, extra: '    restart: {min_delay: 100ms}\n' }),
    { ready: 4 },
  );
  t.after(() => sup.stop());
  const run = h.load({ port, concurrency: 16, maxMs: 60000 });
  t.after(() => run.stop());
  await h.loadProgress(run, 200);
  const before = usage(sup.pid);
  const kills = 6;
  for (let i = 0; i < kills; i++) {
    const slot = (i % 4) + 1;
    const ready = [...sup.log.lines.join('\n').matchAll(new RegExp(`event=ready app=hello slot=${slot} pid=(\\d+) generation=(\\d+)`, 'g'))].pop();
    const [pid, generation] = [Number(ready[1]), Number(ready[2])];
    const mark = sup.log.mark();
    process.kill(pid, 'SIGKILL');
    await sup.log.waitFor(new RegExp(`event=ready app=hello slot=${slot} pid=\\d+ generation=${generation + 1} `), { from: mark });
    await h.loadProgress(run, 100); // served again, every time
    // One kill every 2 s, as an operator's chaos test would.
    await new Promise((r) => setTimeout(r, 2000));
  }
  const results = await run.stop();
  assert.strictEqual(results.ended, 'stopped');
  const refused = results.errors.filter((e) => e === 'ECONNREFUSED').length;
  t.diagnostic(`${results.ok} served, ${results.failed} failed (${[...new Set(results.errors)].join(', ')})`);
  assert.strictEqual(refused, 0, 'the listening socket never went away');
  // A killed worker can only lose what it had accepted: at most one request per client.
  assert.ok(results.failed <= kills * 16, `${results.failed} failed over ${kills} kills`);
  assertFlat(sup.pid, before, 'six worker kills under load');
});

// A C++ SDK worker takes up to ipc::kMaxHandleWindow handles before it answers (its hello's
// window), so the master sends that many without waiting for an ACK. Stopped, it answers
// none: the master's copies stay, and the kill sends every one to the replacement.
test('a C++ worker stopped with a full window of connections in flight, then killed: each reaches its replacement', async (t) => {
  const WINDOW = 16; // ipc::kMaxHandleWindow, what hello-cpp's hello asks for
  const port = await h.freePort();
  const sup = await h.startSupervisor(
    h.config({ port, command: [h.HELLO_CPP], workers: 1, extra: '    dispatch: master\n    restart: {min_delay: 100ms}\n' }),
    { ready: 1 },
  );
  t.after(() => sup.stop());
  const [, pid1] = await sup.log.waitFor(/event=ready app=hello slot=1 pid=(\d+) /);
  process.kill(Number(pid1), 'SIGSTOP');
  const n = WINDOW + 4;
  const answers = Array.from({ length: n }, (_, i) =>
    h.request({ port, path: `/${i}` }).then((res) => res, (error) => ({ error })),
  );
  // The window went before any answer; the rest wait in the master's queue.
  const queued = await h.eventually(async () => {
    const r = await h.cli(sup, ['status', '--json']);
    const slot = JSON.parse(r.stdout).slots.find((s) => s.app === 'hello');
    return { ok: slot?.queued === n - WINDOW, value: slot?.queued };
  });
  assert.ok(queued.ok, `${n - WINDOW} connections wait in the master's queue, not ${queued.value}`);
  const mark = sup.log.mark();
  process.kill(Number(pid1), 'SIGKILL');
  const [, pid2] = await sup.log.waitFor(/event=ready app=hello slot=1 pid=(\d+) /, { from: mark });
  for (const res of await Promise.all(answers)) {
    assert.strictEqual(res.status, 200, `every connection was served: ${res.error}`);
    assert.strictEqual(h.workerOf(res).pid, Number(pid2));
  }
});

// Each mode of tests/fault-worker makes slot 1's first worker misbehave with the first
// connection it gets; the replacement (and slot 2) are hello-cpp.
const MODES = [
  // [mode, the kill's reason, whether the connection in flight is served by the replacement]
  ['no-ack', /reason="hung: no ACK within ack_timeout"/, true],
  ['nack', /reason="protocol: refused a connection 4 times in a row \(NACK\)"/, true],
  // A worker that asked for a window gets no resend (it would reorder the answers).
  ['window-nack', /reason="protocol: a NACK from a worker that takes 4 handles at a time"/, true],
  ['close-channel', /reason="channel closed"/, true],
  // Deterministic EPIPE on the master's first write of a handle.
  ['shut-read', /reason="channel closed"/, true],
  ['handback-pipe', /reason="protocol: a descriptor that is not a TCP socket \(pipe\)"/, false],
  ['handback-unix', /reason="protocol: a descriptor that is not a TCP socket \(pipe\)"/, false],
  ['handback-listening', /reason="protocol: a listening socket"/, false],
  ['two-fds', /reason="protocol: 2 descriptors in one message"/, false],
  ['fd-without-message', /reason="protocol: a descriptor with a message that carries none \(stats\)"/, false],
  ['handback-without-fd', /reason="protocol: handback messages without their socket, 4 in a row"/, false],
];

function faultConfig(port, mode) {
  return `listeners:
  - address: 127.0.0.1:${port}
apps:
  - name: hello
    command: ${JSON.stringify([FAULT_WORKER, mode])}
    workers: 2
    policy: {url_segment: {index: 1, direct: true}}
    ack_timeout: 1s
    restart: {min_delay: 100ms}
`;
}

for (const [mode, reason, servedByReplacement] of MODES) {
  test(`a worker that breaks the protocol (${mode}) is killed and replaced; the master and slot 2 go on`, async (t) => {
    const port = await h.freePort();
    const sup = await h.startSupervisor(faultConfig(port, mode), { ready: 2 });
    t.after(() => sup.stop());
    const before = usage(sup.pid);
    const mark = sup.log.mark();
    const first = h.request({ port, path: '/1/first' }).then(
      (res) => res,
      (error) => ({ error }),
    );
    const kill = await sup.log.waitFor(/event=kill app=hello slot=1 .*/, { from: mark });
    assert.match(kill[0], reason);
    await sup.log.waitFor(/event=ready app=hello slot=1 pid=\d+ generation=2 /, { from: mark });
    const res = await first;
    if (servedByReplacement) {
      // It had not acknowledged the connection: it waited at the head of the queue.
      assert.strictEqual(res.status, 200, `the connection in flight was served: ${res.error}`);
      assert.strictEqual(h.workerOf(res).slot, 1);
    }
    for (const p of ['/1/after', '/2/after', '/1/again']) {
      const after = await h.request({ port, path: p });
      assert.strictEqual(after.status, 200, p);
    }
    assertFlat(sup.pid, before, mode);
  });
}

for (const [mode, what] of [
  ['garbage-then-ack', 'an ACK in the same read as garbage is not lost'],
  ['flood', 'a flood of oversize and malformed lines is dropped'],
]) {
  test(`${what}: the worker keeps serving, nobody is killed, the master stays flat`, async (t) => {
    const port = await h.freePort();
    const sup = await h.startSupervisor(faultConfig(port, mode), { ready: 2 });
    t.after(() => sup.stop());
    const before = usage(sup.pid);
    for (let i = 0; i < 5; i++) {
      const res = await h.request({ port, path: `/1/${i}` });
      assert.strictEqual(res.status, 200);
      assert.strictEqual(res.body, 'fault');
    }
    assert.strictEqual((await h.request({ port, path: '/2/' })).status, 200);
    assert.ok(sup.log.lines.some((l) => /sent a malformed message/.test(l)), 'the garbage was seen');
    assert.ok(!sup.log.lines.some((l) => /event=kill /.test(l)), 'and nobody was killed for it');
    assertFlat(sup.pid, before, mode);
  });
}

test('control and admin clients that hang up before their reply (or while a reload waits for its roll) do not hurt the master', async (t) => {
  const [port, adminPort] = [await h.freePort(), await h.freePort()];
  const sup = await h.startSupervisor(
    `${h.config({ port, command: [h.HELLO_CPP], workers: 1 })}admin: 127.0.0.1:${adminPort}\n`,
    { ready: 1 },
  );
  t.after(() => sup.stop());
  const socket = path.join(sup.dir, 'cluster.sock');
  const before = usage(sup.pid);
  // Each client writes its request and closes at once: the reply meets a closed socket.
  const hangUp = (connect, request) =>
    new Promise((resolve) => {
      const c = connect();
      c.on('error', () => {});
      c.on('close', resolve);
      c.write(request, () => c.destroy());
    });
  const mark = sup.log.mark();
  for (let i = 0; i < 30; i++) {
    await hangUp(() => net.connect(socket), '{"cmd":"status"}\n');
    await hangUp(() => net.connect(adminPort, '127.0.0.1'), 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');
    // A reload that would answer once its roll ended: each starts the roll over, and
    // every answer meets a closed socket.
    if (i % 3 === 0) await hangUp(() => net.connect(socket), '{"cmd":"reload","wait":true}\n');
  }
  await sup.log.waitFor(/event=reload_done app=hello/, { from: mark });
  // Still there, still answering both.
  const reply = await new Promise((resolve, reject) => {
    const c = net.connect(socket);
    let text = '';
    c.on('data', (d) => (text += d));
    c.on('end', () => resolve(text));
    c.on('error', reject);
    c.end('{"cmd":"status"}\n');
  });
  assert.match(reply, /"ok":true/);
  assert.strictEqual((await h.request({ port: adminPort, path: '/healthz' })).status, 200);
  assert.strictEqual((await h.request({ port })).status, 200);
  assertFlat(sup.pid, before, 'hang-ups');
});

test('a command behind a wrapper (sh -c) is killed as a process group: its app does not outlive a restart', async (t) => {
  const port = await h.freePort();
  const sup = await h.startSupervisor(
    h.config({
      port,
      command: ['sh', '-c', `${JSON.stringify(h.NODE)} ${JSON.stringify(h.PLAIN_NODE)}; echo unreachable`],
      workers: 1,
      extra: '    ready: on_spawn\n    restart: {min_delay: 100ms}\n',
    }),
    { ready: 1 },
  );
  t.after(() => sup.stop());
  const [shell] = pidsOf(sup, 'hello');
  const found = await h.eventually(() => {
    const kids = childrenOf(shell);
    return { ok: kids.length === 1, kids };
  });
  const [app] = found.kids;
  assert.ok(h.alive(app), 'the shell started the app');
  const mark = sup.log.mark();
  process.kill(shell, 'SIGKILL'); // the worker the master knows is only the wrapper
  await sup.log.waitFor(/event=ready app=hello slot=1 pid=\d+ generation=2 /, { from: mark });
  const gone = await h.eventually(() => ({ ok: !h.alive(app) }), { timeout: 2000 });
  assert.ok(gone.ok, `the app behind the wrapper (pid ${app}) died with it`);
  assert.strictEqual((await h.request({ port })).status, 200, 'and its replacement serves the port');
});

test('the master killed with SIGKILL: every worker is gone within 2 s, and a new master starts at once', async (t) => {
  const ports = [await h.freePort(), await h.freePort(), await h.freePort(), await h.freePort()];
  const yaml = `listeners:
  - {address: "127.0.0.1:${ports[0]}", name: cpp}
  - {address: "127.0.0.1:${ports[1]}", name: node}
  - {address: "127.0.0.1:${ports[2]}", name: plain}
  - {address: "127.0.0.1:${ports[3]}", name: wrapped}
apps:
  - {name: cpp, command: ${JSON.stringify([h.HELLO_CPP])}, listeners: [cpp], workers: 2}
  - {name: node, command: ${JSON.stringify([h.NODE, h.HELLO_NODE])}, listeners: [node], workers: 1}
  - {name: plain, command: ${JSON.stringify([h.NODE, PLAIN_NODE_HELD])}, listeners: [plain], workers: 1, ready: on_spawn}
  - {name: wrapped, command: ${JSON.stringify(['sh', '-c', `${JSON.stringify(h.NODE)} ${JSON.stringify(PLAIN_NODE_HELD)}; exit 0`])}, listeners: [wrapped], workers: 1, ready: on_spawn}
`;
  const first = await h.startSupervisor(yaml);
  for (const app of ['cpp', 'node', 'plain', 'wrapped'])
    await first.log.waitFor(new RegExp(`event=ready app=${app} slot=1 `));
  // A plain Node worker holding a client's connection is what used to survive its master.
  const held = net.connect(ports[2], '127.0.0.1');
  held.on('error', () => {});
  held.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
  await new Promise((r) => held.once('data', r));
  const wrapped = pidsOf(first, 'wrapped');
  const workers = [...pidsOf(first, 'cpp'), ...pidsOf(first, 'node'), ...pidsOf(first, 'plain'), ...wrapped];
  const behindWrapper = await h.eventually(() => {
    const kids = childrenOf(wrapped[0]);
    return { ok: kids.length === 1, kids };
  });
  workers.push(...behindWrapper.kids);
  first.kill('SIGKILL');
  const { signal } = await first.exited;
  assert.strictEqual(signal, 'SIGKILL');
  const gone = await h.eventually(() => ({ ok: workers.every((pid) => !h.alive(pid)), left: workers.filter(h.alive) }), {
    timeout: 2000,
  });
  assert.deepStrictEqual(gone.left, [], 'no worker outlives its master');
  held.destroy();

  const second = await h.startSupervisor(yaml, { file: first.file });
  t.after(() => second.stop());
  for (const app of ['cpp', 'node', 'plain', 'wrapped'])
    await second.log.waitFor(new RegExp(`event=ready app=${app} slot=1 `));
  for (const port of ports) assert.strictEqual((await h.request({ port })).status, 200, `port ${port} serves again`);
});

test('workers inherit no descriptor the master inherited', async (t) => {
  const port = await h.freePort();
  // fd 4 of the master: a socket its parent left open and inheritable.
  const sup = await h.startSupervisor(h.config({ port, command: [h.HELLO_CPP], workers: 1 }), {
    ready: 1,
    extraStdio: ['ignore', 'pipe'],
  });
  t.after(() => sup.stop());
  const leaked = fs.readlinkSync(`/proc/${sup.pid}/fd/4`);
  assert.match(sup.log.lines.join('\n'), /event=inherited_descriptors count=\d+ action=close-on-exec/);
  const [worker] = pidsOf(sup, 'hello');
  const links = fs.readdirSync(`/proc/${worker}/fd`).map((fd) => {
    try {
      return fs.readlinkSync(`/proc/${worker}/fd/${fd}`);
    } catch {
      return '';
    }
  });
  assert.ok(!links.includes(leaked), `the worker does not hold the master's inherited ${leaked}`);
});

test('the descriptor limit is raised to the hard limit; 1,100 silent clients do not lock out good ones', async (t) => {
  const port = await h.freePort();
  const sup = await h.startSupervisor(
    h.config({ port, command: [h.HELLO_CPP], workers: 2, policy: '{url_segment: {index: 1}}' }),
    { ready: 2, prefix: ['prlimit', '--nofile=1024:8192'] },
  );
  t.after(() => sup.stop());
  assert.match(sup.log.lines.join('\n'), /event=descriptor_limit soft=8192 hard=8192 was=1024/);
  const silent = [];
  t.after(() => silent.forEach((s) => s.destroy()));
  for (let i = 0; i < 1100; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.write('G'); // the start of a head, then nothing: the master holds it while it waits
    silent.push(s);
  }
  await Promise.all(silent.map((s) => new Promise((r) => (s.connecting ? s.once('connect', r) : r()))));
  for (let i = 0; i < 20; i++) assert.strictEqual((await h.request({ port, path: `/k${i}` })).status, 200);
});

test('out of descriptors, the master stops accepting for a moment and loses no waiting client', async (t) => {
  // 64 descriptors, and silent clients held by the head intake take the rest: accept4
  // fails with EMFILE. The master must neither spin on its listening socket (it pauses,
  // as nginx does) nor reset what waits in the kernel's queue (libuv's accept drops it).
  const port = await h.freePort();
  const sup = await h.startSupervisor(
    h.config({ port, command: [h.HELLO_CPP], workers: 1, policy: '{url_segment: {index: 1}}' }),
    { ready: 1, prefix: ['prlimit', '--nofile=64:64'] },
  );
  t.after(() => sup.stop());
  const mark = sup.log.mark();
  const silent = [];
  t.after(() => silent.forEach((s) => s.destroy()));
  for (let i = 0; i < 80; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    s.write('G');
    silent.push(s);
  }
  const failed = () => sup.log.lines.slice(mark).filter((l) => l.includes('event=accept_failed'));
  await sup.log.waitFor(/event=accept_failed .*too many open files/i, { from: mark });
  const waiting = h.request({ port, path: '/k1' });  // queued in the kernel meanwhile
  // Three failures in a row, each after a pause of 100 ms (the master's own clock), not a
  // busy loop.
  for (let n = 2; n <= 3; n++) {
    const seen = failed().length;
    if (seen < n) await sup.log.waitFor(/event=accept_failed/, { from: sup.log.mark() });
  }
  const times = failed().map((l) => Date.parse(l.match(/ts=(\S+)/)[1]));
  assert.ok(times[2] - times[0] >= 150, `accept failures at ${times.slice(0, 3).map((x) => x - times[0])} ms`);
  silent.forEach((s) => s.destroy());
  assert.strictEqual((await waiting).status, 200, 'the client that waited in the kernel is served');
  const all = failed().map((l) => Date.parse(l.match(/ts=(\S+)/)[1]));
  const span = all[all.length - 1] - all[0];
  assert.ok(all.length <= span / 90 + 2, `${all.length} accept failures in ${span} ms`);
});

test('a config that cannot fit the descriptor limit is warned about at start', async (t) => {
  const port = await h.freePort();
  const sup = await h.startSupervisor(
    h.config({ port, command: [h.HELLO_CPP], workers: 1 }).replace(
      `127.0.0.1:${port}\n`,
      `127.0.0.1:${port}\n    max_classifying: 2000\n`,
    ),
    { ready: 1, prefix: ['prlimit', '--nofile=1024:1024'] },
  );
  t.after(() => sup.stop());
  assert.match(sup.log.lines.join('\n'), /event=descriptor_limit_low needed=\d+ limit=1024 /);
});
