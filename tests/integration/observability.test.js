'use strict';
// Observability and control end to end: the scoreboard read by `supervisor status`, the
// admin endpoint (/status, /metrics through promtool, /readyz, /healthz), the control
// socket (scale, its permissions), a master killed with SIGKILL and started again,
// worker output that never ends its line, and systemd's notify socket and socket
// activation.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { execFileSync, spawn, spawnSync } = require('node:child_process');
const h = require('./helpers');

// Debian's promtool, extracted by `make deps` (the package itself would start a
// Prometheus server); where it is, tools/promtool/promtool.sh says.
const PROMTOOL = execFileSync(path.join(h.ROOT, 'tools/promtool/promtool.sh'), ['path'], { encoding: 'utf8' }).trim();

const GATED = path.join(__dirname, 'fixtures/gated-worker.js');
const NOISY = path.join(__dirname, 'fixtures/noisy-worker.js');

// Runs `supervisor <args>` (as another user with `as`: setpriv arguments).
function cli(args, { as = [] } = {}) {
  const argv = as.length ? ['setpriv', ...as, h.SUPERVISOR, ...args] : h.supervisorArgv(args);
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: h.TIMEOUT });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function statusJson(sup) {
  const r = cli(['status', '--json', '--config', sup.file]);
  assert.strictEqual(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

// GET on the admin endpoint; resolves with status and body (rejects if nothing listens).
function admin(port, p) {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode, body, headers: res.headers }));
      })
      .on('error', reject);
  });
}

// Waits until the scoreboard shows `n` slots, all ready.
async function allReady(sup, n) {
  const r = await h.eventually(() => {
    const s = statusJson(sup);
    return { ok: s.slots.length === n && s.slots.every((x) => x.state === 'ready'), s };
  });
  assert.ok(r.ok, JSON.stringify(r.s));
}

function requestsBySlot(status, app) {
  const out = {};
  for (const s of status.slots) if (s.app === app) out[s.slot] = s.requests;
  return out;
}

// The value of one sample in Prometheus text, or undefined.
function sample(text, name, labels) {
  const want = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(name + '{') && !line.startsWith(name + ' ')) continue;
    const [series, value] = [line.slice(0, line.lastIndexOf(' ')), line.slice(line.lastIndexOf(' ') + 1)];
    if (series.split('{')[0] !== name) continue;
    if (want.every((w) => series.includes(w))) return Number(value);
  }
  return undefined;
}

// Master dispatch: these tests count the master's hand-offs and its strict turns (under
// kernel dispatch the master hands off nothing: kernel-dispatch.test.js).
function twoApps({ cppPort, nodePort, adminPort }) {
  return `listeners:
  - {address: "127.0.0.1:${cppPort}", name: cpp}
  - {address: "127.0.0.1:${nodePort}", name: node}
apps:
  - name: cpp
    command: ${JSON.stringify([h.HELLO_CPP])}
    workers: 2
    listeners: [cpp]
    dispatch: master
  - name: node
    command: ${JSON.stringify([h.NODE, h.HELLO_NODE])}
    workers: 2
    listeners: [node]
    dispatch: master
    heartbeat: {interval: 200ms, timeout: 10s}
admin: 127.0.0.1:${adminPort}
`;
}

test('status and /status agree with the requests a test sent, per slot (C++ and Node workers)', async (t) => {
  const [cppPort, nodePort, adminPort] = [await h.freePort(), await h.freePort(), await h.freePort()];
  const sup = await h.startSupervisor(twoApps({ cppPort, nodePort, adminPort }), { ready: 2 });
  t.after(() => sup.stop());
  await allReady(sup, 4);

  const sent = { cpp: {}, node: {} };
  for (const [app, port, n] of [['cpp', cppPort, 30], ['node', nodePort, 20]]) {
    for (let i = 0; i < n; i++) {
      const w = h.workerOf(await h.request({ port }));
      sent[app][w.slot] = (sent[app][w.slot] || 0) + 1;
    }
  }
  assert.deepStrictEqual(Object.keys(sent.cpp).sort(), ['1', '2'], 'round_robin reached both C++ slots');
  assert.deepStrictEqual(Object.keys(sent.node).sort(), ['1', '2'], 'and both Node slots');

  // C++ workers count in the scoreboard themselves; Node's numbers come with its next heartbeat.
  const settled = await h.eventually(() => {
    const s = statusJson(sup);
    const ok = JSON.stringify(requestsBySlot(s, 'cpp')) === JSON.stringify(sent.cpp) &&
      JSON.stringify(requestsBySlot(s, 'node')) === JSON.stringify(sent.node);
    return { ok, s };
  });
  assert.deepStrictEqual(requestsBySlot(settled.s, 'cpp'), sent.cpp);
  assert.deepStrictEqual(requestsBySlot(settled.s, 'node'), sent.node);

  const viaHttp = JSON.parse((await admin(adminPort, '/status')).body);
  // The master's build: the same in both, and what --version and /metrics say.
  const version = cli(['--version']);
  assert.strictEqual(version.code, 0, version.stderr);
  const [, number, commit] = version.stdout.match(/^handoff supervisor (\S+) \(commit (\S+)\)\n$/) || [];
  assert.ok(number && commit, version.stdout);
  assert.deepStrictEqual({ version: viaHttp.master.version, commit: viaHttp.master.commit }, { version: number, commit });
  assert.deepStrictEqual({ version: settled.s.master.version, commit: settled.s.master.commit }, { version: number, commit });
  const metrics = (await admin(adminPort, '/metrics')).body;
  assert.ok(metrics.includes(`handoff_build_info{version="${number}",commit="${commit}"} 1\n`), metrics);
  assert.deepStrictEqual(requestsBySlot(viaHttp, 'cpp'), sent.cpp);
  assert.deepStrictEqual(requestsBySlot(viaHttp, 'node'), sent.node);
  for (const s of viaHttp.slots) {
    assert.strictEqual(s.state, 'ready');
    assert.ok(s.pid > 0 && s.rss >= 0 && s.generation === 1, JSON.stringify(s));
    assert.strictEqual(s.handed_off, sent[s.app][s.slot], `${s.app}/${s.slot} handed off every connection`);
  }
  // Response bytes from both kinds: C++ workers count them in the scoreboard, Node's come
  // with their heartbeat (the status above had every request: so had that heartbeat).
  for (const app of ['cpp', 'node'])
    assert.ok(settled.s.slots.filter((s) => s.app === app).every((s) => s.bytes > 0), `${app} workers count response bytes`);
  // CPU and memory of the master and of each worker, sampled by the master every second
  // (CPU time in clock ticks: a Node worker has used some by now, a C++ one may not have).
  const usage = await h.eventually(() => {
    const s = statusJson(sup);
    const node = s.slots.filter((x) => x.app === 'node');
    return { ok: s.master.rss > 0 && s.master.cpu_seconds >= 0 && node.every((x) => x.cpu_seconds > 0), s };
  });
  assert.ok(usage.ok, JSON.stringify(usage.s));
  assert.ok(usage.s.slots.every((x) => x.cpu_percent >= 0), JSON.stringify(usage.s.slots));

  // The table: the master's row, then one row per slot, with the same request counts.
  const table = cli(['status', '--socket', path.join(sup.dir, 'cluster.sock')]);
  assert.strictEqual(table.code, 0, table.stderr);
  const rows = table.stdout.trim().split('\n');
  assert.match(rows[0], /^APP\s+SLOT\s+PID\s+STATE\s+GEN\s+UPTIME\s+RESTARTS\s+CONNS\s+QUEUE\s+REQUESTS\s+REQ\/S\s+CPU%\s+RSS\s+LAST EXIT$/);
  assert.match(rows[1], new RegExp(`^\\(master\\)\\s+-\\s+${sup.pid}\\s+running\\s+-\\s+\\S+\\s+-\\s+-\\s+-\\s+-\\s+-\\s+\\d+\\.\\d\\s+\\S+\\s+-$`));
  assert.strictEqual(rows.length, 6);
  for (const row of rows.slice(2)) {
    const [app, slot, , state, , , , , , requests] = row.split(/\s+/);
    assert.strictEqual(state, 'ready');
    assert.strictEqual(Number(requests), sent[app][slot], row);
  }
});

test('/metrics passes promtool check metrics and its counters move with traffic', async (t) => {
  const [cppPort, nodePort, adminPort] = [await h.freePort(), await h.freePort(), await h.freePort()];
  const sup = await h.startSupervisor(twoApps({ cppPort, nodePort, adminPort }), { ready: 2 });
  t.after(() => sup.stop());
  await allReady(sup, 4);

  const before = await admin(adminPort, '/metrics');
  assert.strictEqual(before.status, 200);
  assert.match(before.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  const lint = spawnSync(PROMTOOL, ['check', 'metrics'], { input: before.body, encoding: 'utf8' });
  assert.strictEqual(lint.status, 0, `promtool: ${lint.stdout}${lint.stderr}\n${before.body}`);
  // Every restart series exists at 0 before the first restart, so that increase() sees it.
  for (const slot of [1, 2])
    for (const reason of ['crash', 'hung', 'protocol', 'start_failure'])
      assert.strictEqual(sample(before.body, 'handoff_slot_restarts_total', { app: 'node', slot, reason }), 0, `${slot} ${reason}`);

  for (let i = 0; i < 10; i++) await h.request({ port: cppPort });
  // A C++ worker writes a response before it counts it in the scoreboard: the client can
  // see the last response a moment before the worker's count moves.
  const after = await h.eventually(async () => {
    const m = (await admin(adminPort, '/metrics')).body;
    const dispatched = [1, 2].map((slot) => sample(m, 'handoff_connections_dispatched_total', { app: 'cpp', slot }));
    const requests = [1, 2].map((slot) => sample(m, 'handoff_worker_requests_total', { app: 'cpp', slot }));
    return { ok: dispatched[0] + dispatched[1] === 10 && requests[0] + requests[1] === 10, m, dispatched };
  });
  assert.deepStrictEqual(after.dispatched, [5, 5], 'round_robin: 5 connections to each slot');
  const m = after.m;
  assert.strictEqual(sample(m, 'handoff_worker_requests_total', { app: 'cpp', slot: 1 }), 5);
  assert.strictEqual(sample(m, 'handoff_handoff_latency_seconds_count', { app: 'cpp' }), 10);
  assert.strictEqual(sample(m, 'handoff_handoff_latency_seconds_bucket', { app: 'cpp', le: '+Inf' }), 10);
  // Every connection handed over waited in its slot's queue for some time, mostly none.
  assert.strictEqual(sample(m, 'handoff_queue_wait_seconds_count', { app: 'cpp' }), 10);
  // The master's own process, as the Prometheus client libraries name it.
  // (in clock ticks of 10 ms: an idle master may not have used one yet)
  assert.ok(sample(m, 'process_cpu_seconds_total', {}) >= 0, 'process_cpu_seconds_total');
  assert.ok(sample(m, 'process_resident_memory_bytes', {}) > 0, 'process_resident_memory_bytes');
  if (h.WINDOWS) {
    // No descriptor limit there, and the handle count wine gives is not Windows' own.
    assert.strictEqual(sample(m, 'process_max_fds', {}), undefined, 'no process_max_fds on Windows');
    assert.ok(sample(m, 'process_open_fds', {}) >= 0, 'process_open_fds');
  } else {
    assert.ok(sample(m, 'process_open_fds', {}) > 0, 'process_open_fds');
    assert.ok(sample(m, 'process_max_fds', {}) >= sample(m, 'process_open_fds', {}), 'process_max_fds');
  }
  assert.strictEqual(sample(m, 'handoff_slot_state', { app: 'node', slot: 2, state: 'ready' }), 1);
  assert.strictEqual(sample(m, 'handoff_connections_rejected_total', { app: 'cpp', status: 503 }), 0);
  assert.strictEqual(sample(m, 'handoff_connections_rejected_total', { app: 'cpp', status: 408 }), 0);
  // Memory and CPU are sampled by the master every second.
  const rss = await h.eventually(async () => {
    const text = (await admin(adminPort, '/metrics')).body;
    return {
      ok: sample(text, 'handoff_worker_resident_memory_bytes', { app: 'node', slot: 1 }) > 0 &&
        sample(text, 'handoff_worker_cpu_seconds_total', { app: 'node', slot: 1 }) > 0,
    };
  });
  assert.ok(rss.ok, 'the RSS and CPU of node/1 are reported');

  // A crash shows up as a restart by reason, once the slot is back.
  const { pid } = h.workerOf(await h.request({ port: nodePort }));
  const mark = sup.log.mark();
  process.kill(pid, 'SIGKILL');
  await sup.log.waitFor(/event=ready app=node slot=\d pid=\d+ generation=2 /, { from: mark });
  const crashed = (await admin(adminPort, '/metrics')).body;
  const restarts = [1, 2].map((slot) => sample(crashed, 'handoff_slot_restarts_total', { app: 'node', slot, reason: 'crash' }));
  assert.strictEqual(restarts[0] + restarts[1], 1, crashed);
  const lint2 = spawnSync(PROMTOOL, ['check', 'metrics'], { input: crashed, encoding: 'utf8' });
  assert.strictEqual(lint2.status, 0, `promtool: ${lint2.stdout}${lint2.stderr}`);
});

test('/readyz is 503 while workers start and 200 once min_ready are ready; /healthz is 200', async (t) => {
  const [port, adminPort] = [await h.freePort(), await h.freePort()];
  const gate = path.join(h.tempDir(), 'open');
  const sup = await h.startSupervisor(`listeners:
  - address: 127.0.0.1:${port}
apps:
  - name: gated
    command: ${JSON.stringify([h.NODE, GATED])}
    workers: 2
    min_ready: 2
    env: {GATE: ${JSON.stringify(gate)}}
admin: {address: "127.0.0.1:${adminPort}"}
`);
  t.after(() => sup.stop());
  await sup.log.waitFor(/event=admin_listening/);
  await sup.log.waitFor(/event=spawn app=gated slot=2 /);
  const starting = await admin(adminPort, '/readyz');
  assert.strictEqual(starting.status, 503);
  assert.match(starting.body, /app gated: 0 of 2 workers ready/);
  assert.strictEqual((await admin(adminPort, '/healthz')).status, 200);
  assert.strictEqual(statusJson(sup).slots.every((s) => s.state === 'starting'), true);
  // No worker ready to ask for its own metrics: the master's are served at once.
  const early = await admin(adminPort, '/metrics');
  assert.strictEqual(early.status, 200);
  assert.match(early.body, /^handoff_app_ready_workers\{app="gated"\} 0$/m);
  assert.doesNotMatch(early.body, /handoff_app_metrics_up/);

  fs.writeFileSync(gate, '');
  await sup.log.waitFor(/event=cluster_ready/);
  const ready = await admin(adminPort, '/readyz');
  assert.strictEqual(ready.status, 200, ready.body);
  assert.strictEqual((await admin(adminPort, '/healthz')).status, 200);
  assert.strictEqual((await admin(adminPort, '/nothing-here')).status, 404);
});

test('scale 2 -> 4 -> 1 through the control socket under light load: no failed request', async (t) => {
  const port = await h.freePort();
  const sup = await h.startSupervisor(h.config({ port, command: [h.HELLO_CPP], workers: 2 }), { ready: 2 });
  t.after(() => sup.stop());
  const run = h.load({ port, concurrency: 4 });
  t.after(() => run.stop());
  await h.loadProgress(run, 100);

  // scale waits until the new slots are ready (the load goes on meanwhile: h.cli).
  let mark = sup.log.mark();
  const up = await h.cli(sup, ['scale', 'hello', '4']);
  assert.strictEqual(up.code, 0, up.stderr);
  assert.match(up.stdout, /^hello: scaled 2 -> 4: slot 3 ready \(pid \d+\), slot 4 ready \(pid \d+\)\n$/);
  for (const slot of [3, 4]) assert.ok(sup.log.lines.slice(mark).some((l) => l.includes(`event=ready app=hello slot=${slot} `)));
  await h.loadProgress(run, 200);
  assert.deepStrictEqual(statusJson(sup).slots.map((s) => s.slot), [1, 2, 3, 4]);

  // ... and until the removed ones are gone.
  mark = sup.log.mark();
  const down = await h.cli(sup, ['scale', 'hello', '1', '--socket', path.join(sup.dir, 'cluster.sock')]);
  assert.strictEqual(down.code, 0, down.stderr);
  assert.strictEqual(down.stdout, 'hello: scaled 4 -> 1: slots 2, 3, 4 stopped\n');
  for (const slot of [2, 3, 4]) assert.ok(sup.log.lines.slice(mark).some((l) => l.includes(`event=stopped app=hello slot=${slot}`)));
  await h.loadProgress(run, 200);
  const results = await run.stop();
  assert.strictEqual(results.failed, 0, results.errors.join(', '));
  const served = [...results.byWorker.keys()].map((w) => w.split('/')[1]);
  for (const slot of ['1', '2', '3', '4']) assert.ok(served.includes(slot), `slot ${slot} served`);
  const after = await h.eventually(() => {
    const s = statusJson(sup);
    return { ok: s.slots.length === 1, s };
  });
  assert.deepStrictEqual(after.s.slots.map((s) => s.slot), [1]);

  const unknown = cli(['scale', 'nope', '2', '--config', sup.file]);
  assert.strictEqual(unknown.code, 1);
  assert.match(unknown.stderr, /no app named "nope" \(apps: hello\)/);
  // --no-wait answers once the master took it, as before.
  const quick = cli(['scale', 'hello', '1', '--no-wait', '--config', sup.file]);
  assert.deepStrictEqual([quick.code, quick.stdout.split(';')[0]], [0, 'app hello: 1 workers (was 1)'], quick.stderr);
});

test('top draws the slots from the scoreboard every second and quits on q', async (t) => {
  const port = await h.freePort();
  const sup = await h.startSupervisor(h.config({ port, command: [h.HELLO_CPP], workers: 2 }), { ready: 2 });
  t.after(() => sup.stop());
  const argv = h.supervisorArgv(['top', '--config', sup.file]);
  const top = spawn(argv[0], argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] });
  t.after(() => top.kill('SIGKILL'));
  const exited = new Promise((resolve) => top.on('exit', (code) => resolve(code)));
  let screen = '';
  top.stdout.setEncoding('utf8');
  top.stdout.on('data', (d) => (screen += d));
  top.stderr.on('data', (d) => (screen += d));
  // Two frames, each with both slots ready.
  const frames = await h.eventually(() => {
    const rows = screen.match(/^hello\s+[12]\s+\d+\s+ready\b/gm) || [];
    return { ok: rows.length >= 4, screen };
  });
  assert.ok(frames.ok, screen);
  // q quits. Under wine a Linux pipe on stdin is never read (a console would be), so there
  // Ctrl+C (SIGINT to wine), which quits too.
  if (h.WINDOWS) top.kill('SIGINT');
  else top.stdin.write('q');
  const timeout = new Promise((resolve) => setTimeout(() => resolve('still running'), h.TIMEOUT).unref());
  assert.strictEqual(await Promise.race([exited, timeout]), 0, screen);
});

test('the control socket is 0600 and refuses another user', async (t) => {
  const port = await h.freePort();
  const sup = await h.startSupervisor(h.config({ port, command: [h.HELLO_CPP], workers: 1 }), { ready: 1 });
  t.after(() => sup.stop());
  const socket = path.join(sup.dir, 'cluster.sock');
  const st = fs.statSync(socket);
  assert.ok(st.isSocket());
  assert.strictEqual(st.mode & 0o777, 0o600);
  const shm = sup.log.lines.join('\n').match(/event=control_socket path=\S+ scoreboard=(\S+)/)[1];
  assert.strictEqual(fs.statSync(`/dev/shm/${shm}`).mode & 0o777, 0o600);

  const nobody = ['--reuid=nobody', '--regid=nogroup', '--clear-groups'];
  // The file's mode stops it first...
  const denied = cli(['stop', '--socket', socket], { as: nobody });
  assert.notStrictEqual(denied.code, 0);
  assert.match(denied.stderr, /permission denied/);
  // ...and with the file's mode out of the way (CAP_DAC_OVERRIDE), SO_PEERCRED does.
  const mark = sup.log.mark();
  const peer = cli(['stop', '--socket', socket], { as: [...nobody, '--inh-caps=+dac_override', '--ambient-caps=+dac_override'] });
  assert.notStrictEqual(peer.code, 0);
  assert.match(peer.stderr, /permission denied: uid 65534 is not the supervisor's user/);
  await sup.log.waitFor(/event=control_refused uid=65534/, { from: mark });
  const board = cli(['status', '--socket', socket], { as: nobody });
  assert.strictEqual(board.code, 1, 'nor can it read the scoreboard');
  assert.match(board.stderr, /^supervisor status: permission denied: the supervisor of \S+ lets only its own user read its scoreboard/, 'and it says so');

  // Still running and serving.
  assert.strictEqual((await h.request({ port })).status, 200);
  assert.strictEqual(statusJson(sup).slots.length, 1);
});

// The same on both platforms: who may use the control socket and map the scoreboard, as the
// supervisor reads it back from the live objects, and every control command.
test('the control socket and the scoreboard admit only the supervisor\'s user; reload and stop through it', async (t) => {
  const port = await h.freePort();
  const yaml = (version) =>
    h.config({ port, command: [h.HELLO_CPP], workers: 1, extra: `    env: {VERSION: "${version}"}\n` });
  const sup = await h.startSupervisor(yaml(1), { ready: 1 });
  t.after(() => sup.stop());
  const [, access, boardAccess] = await sup.log.waitFor(/event=control_socket .*access=(\S+) scoreboard_access=(\S+)/);
  if (h.WINDOWS) {
    // One allow entry, full access, for one SID (the user's): no Everyone, Anonymous,
    // SYSTEM or Administrators entry. (Wine 8 keeps the DACL set on the pipe afterwards
    // but not its "protected" flag, P, which a kernel object never uses anyway.)
    assert.match(access, /^D:P?\(A;;(?:GA|FA|0x1f01ff);;;(S-1-5-[\d-]+)\)$/, 'the named pipe\'s DACL');
    assert.match(boardAccess, /^D:P\(A;;(?:GA|0xf001f);;;(S-1-5-[\d-]+)\)$/, 'the section\'s DACL');
    assert.strictEqual(access.match(/;;;(S-[\d-]+)\)/)[1], boardAccess.match(/;;;(S-[\d-]+)\)/)[1], 'the same user');
  } else {
    assert.strictEqual(access, '0600');
    assert.strictEqual(boardAccess, '0600');
  }

  fs.writeFileSync(sup.file, yaml(2));
  let mark = sup.log.mark();
  const reload = cli(['reload', '--config', sup.file]);
  assert.strictEqual(reload.code, 0, reload.stderr);
  await sup.log.waitFor(/event=reload /, { from: mark });
  await sup.log.waitFor(/event=ready app=hello slot=1 pid=\d+ generation=2 /, { from: mark });
  assert.strictEqual((await h.request({ port })).status, 200);
  const renewed = await h.eventually(() => {
    const slots = statusJson(sup).slots.map((x) => [x.slot, x.generation, x.state]);
    return { ok: JSON.stringify(slots) === '[[1,2,"ready"]]', slots };
  });
  assert.deepStrictEqual(renewed.slots, [[1, 2, 'ready']]);

  mark = sup.log.mark();
  const stop = cli(['stop', '--config', sup.file]);
  assert.strictEqual(stop.code, 0, stop.stderr);
  await sup.log.waitFor(/event=shutdown /, { from: mark });
  await sup.finished();
  const gone = cli(['status', '--config', sup.file]);
  assert.strictEqual(gone.code, 1, 'nothing to read once it stopped');
});

test('a master killed with SIGKILL starts again: the stale scoreboard and socket are replaced', async (t) => {
  const port = await h.freePort();
  const yaml = h.config({ port, command: [h.HELLO_CPP], workers: 2 });
  const first = await h.startSupervisor(yaml, { ready: 2 });
  const socket = path.join(first.dir, 'cluster.sock');
  const shm = first.log.lines.join('\n').match(/event=control_socket path=\S+ scoreboard=(\S+)/)[1];
  const workers = statusJson(first).slots.map((s) => s.pid);
  first.kill('SIGKILL');
  await first.exited;
  // Its worker guard kills the workers it left (faults.test.js proves it for every kind).
  const orphans = await h.eventually(() => ({ ok: workers.every((pid) => !h.alive(pid)) }), { timeout: 2000 });
  assert.ok(orphans.ok, 'the workers died with their master');
  assert.ok(fs.existsSync(socket), 'the dead master left its socket');
  assert.ok(fs.existsSync(`/dev/shm/${shm}`), 'and its scoreboard');
  const stale = cli(['status', '--socket', socket]);
  assert.strictEqual(stale.code, 1);
  assert.match(stale.stderr, /is gone; its scoreboard is stale/);

  const second = await h.startSupervisor(yaml, { ready: 2, file: first.file });
  t.after(() => second.stop());
  await second.log.waitFor(new RegExp(`event=stale_scoreboard_replaced name=${shm}`));
  const s = statusJson(second);
  assert.strictEqual(s.master.pid, second.pid);
  assert.deepStrictEqual(s.slots.map((x) => x.state), ['ready', 'ready']);
  assert.strictEqual((await h.request({ port })).status, 200);
  const stop = cli(['stop', '--config', second.file]);
  assert.strictEqual(stop.code, 0, stop.stderr);
  await second.finished();
  assert.ok(!fs.existsSync(socket), 'a clean stop removes the socket');
  assert.ok(!fs.existsSync(`/dev/shm/${shm}`), 'and the scoreboard');
});

test('a worker printing 10 MB without a newline does not block dispatch', async (t) => {
  const [port, other] = [await h.freePort(), await h.freePort()];
  const sup = await h.startSupervisor(`listeners:
  - {address: "127.0.0.1:${port}", name: noisy}
  - {address: "127.0.0.1:${other}", name: quiet}
apps:
  - name: noisy
    command: ${JSON.stringify([h.NODE, NOISY])}
    env: {NOISE_BYTES: "${10 * 1024 * 1024}"}
    listeners: [noisy]
  - name: quiet
    command: ${JSON.stringify([h.HELLO_CPP])}
    listeners: [quiet]
log_format: json
`);
  t.after(() => sup.stop());
  await sup.log.waitFor(/"event":"ready","app":"quiet"/);
  await sup.log.waitFor(/"event":"ready","app":"noisy"/);
  // While the noise streams through the master, both apps answer.
  for (let i = 0; i < 20; i++) {
    assert.strictEqual((await h.request({ port })).status, 200);
    assert.strictEqual((await h.request({ port: other })).status, 200);
  }
  // All of it arrives, cut into bounded JSON lines tagged with app, slot and pid.
  const relayed = await h.eventually(() => {
    let bytes = 0;
    let longest = 0;
    for (const l of sup.log.lines) {
      if (!l.startsWith('{"ts"') || !l.includes('"event":"output"')) continue;
      const o = JSON.parse(l);
      if (o.app !== 'noisy' || o.stream !== 'stdout') continue;
      bytes += o.line.length;
      longest = Math.max(longest, o.line.length);
      assert.ok(Number.isInteger(o.pid) && o.pid > 0 && o.slot === 1);
    }
    return { ok: bytes === 10 * 1024 * 1024, bytes, longest };
  });
  assert.strictEqual(relayed.bytes, 10 * 1024 * 1024);
  assert.strictEqual(relayed.longest, 16 * 1024);
});

// NOTIFY_SOCKET: a datagram socket socat listens on, printing what it receives.
function notifyListener(t) {
  const file = path.join(h.tempDir(), 'notify.sock');
  const socat = spawn('socat', ['-u', `UNIX-RECV:${file}`, 'STDOUT'], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => socat.kill());
  const received = { text: '' };
  socat.stdout.setEncoding('utf8');
  socat.stdout.on('data', (d) => (received.text += d));
  return { file, received, ready: h.eventually(() => ({ ok: fs.existsSync(file) })) };
}

async function until(fn, what) {
  const r = await h.eventually(() => ({ ok: fn() }));
  assert.ok(r.ok, what);
}

test('systemd: READY=1 once min_ready, RELOADING=1/READY=1 around a reload, STOPPING=1, WATCHDOG=1', async (t) => {
  const port = await h.freePort();
  const notify = notifyListener(t);
  await notify.ready;
  const sup = await h.startSupervisor(h.config({ port, command: [h.HELLO_CPP], workers: 2 }), {
    ready: 2,
    env: { NOTIFY_SOCKET: notify.file, WATCHDOG_USEC: '200000' },
  });
  t.after(() => sup.stop());
  await until(() => notify.received.text.includes('READY=1'), 'READY=1');
  await until(() => (notify.received.text.match(/WATCHDOG=1/g) || []).length >= 2, 'WATCHDOG=1 pings');
  // Workers never see the service manager's variables.
  const env = fs.readFileSync(`/proc/${statusJson(sup).slots[0].pid}/environ`, 'utf8');
  assert.ok(!env.includes('NOTIFY_SOCKET') && !env.includes('WATCHDOG_USEC'), 'stripped from workers');

  const reloadAt = notify.received.text.length;
  process.kill(sup.pid, 'SIGHUP');
  await until(() => /RELOADING=1[\s\S]*READY=1/.test(notify.received.text.slice(reloadAt)), 'RELOADING=1 then READY=1');
  const stopAt = notify.received.text.length;
  await sup.stop();
  await until(() => notify.received.text.slice(stopAt).includes('STOPPING=1'), 'STOPPING=1');
});

test('systemd socket activation: listeners come from LISTEN_FDS', async (t) => {
  const port = await h.freePort();
  const sup = await h.startSupervisor(h.config({ port, command: [h.HELLO_CPP], workers: 1 }), {
    prefix: ['systemd-socket-activate', '-l', `127.0.0.1:${port}`],
  });
  t.after(() => sup.stop());
  await sup.log.waitFor(new RegExp(`Listening on 127\\.0\\.0\\.1:${port}`));
  // systemd-socket-activate starts the supervisor on the first connection, as systemd would.
  const res = await h.request({ port });
  assert.strictEqual(res.status, 200);
  await sup.log.waitFor(new RegExp(`event=listening listener=127.0.0.1:${port} address=127.0.0.1:${port} from=LISTEN_FDS`));
  const { pid } = statusJson(sup).slots[0];
  const env = fs.readFileSync(`/proc/${pid}/environ`, 'utf8');
  assert.ok(!env.includes('LISTEN_FDS'), 'workers do not inherit LISTEN_FDS');
});

// Every answer the master gives itself is counted once: on the app of a port it serves
// alone (a path outside its routes too), on the listener when several apps share it and
// none is known yet.
test('/metrics: rejections count on the port\'s app, or on a shared listener when no app is known', async (t) => {
  const [sharedPort, alonePort, adminPort] = [await h.freePort(), await h.freePort(), await h.freePort()];
  const yaml = `listeners:
  - {address: "127.0.0.1:${sharedPort}", name: shared, max_head: 1KiB}
  - {address: "127.0.0.1:${alonePort}", name: alone}
apps:
  - name: a
    command: ${JSON.stringify([h.HELLO_CPP])}
    workers: 1
    listeners: [shared]
    routes: ["/a/"]
  - name: b
    command: ${JSON.stringify([h.HELLO_CPP])}
    workers: 1
    listeners: [shared]
    routes: ["/b/"]
  - name: c
    command: ${JSON.stringify([h.HELLO_CPP])}
    workers: 1
    listeners: [alone]
    routes: ["/c/"]
admin: 127.0.0.1:${adminPort}
`;
  await h.startApps(t, yaml, { a: 1, b: 1, c: 1 });
  assert.strictEqual((await h.request({ port: sharedPort, path: '/a/x' })).status, 200);
  assert.strictEqual((await h.request({ port: sharedPort, path: '/nobody/x' })).status, 404);
  assert.strictEqual((await h.request({ port: sharedPort, path: '/nobody/y' })).status, 404);
  assert.strictEqual((await h.request({ port: sharedPort, path: '/a/x', headers: { 'X-Big': 'b'.repeat(2000) } })).status, 431);
  assert.strictEqual((await h.request({ port: alonePort, path: '/nobody/x' })).status, 404);
  const m = (await admin(adminPort, '/metrics')).body;
  assert.strictEqual(sample(m, 'handoff_connections_rejected_total', { listener: 'shared', status: 404 }), 2);
  assert.strictEqual(sample(m, 'handoff_connections_rejected_total', { listener: 'shared', status: 431 }), 1);
  assert.strictEqual(sample(m, 'handoff_connections_rejected_total', { app: 'c', status: 404 }), 1);
  for (const name of ['a', 'b', 'c'])
    for (const status of [400, 408, 431, 503])
      assert.strictEqual(sample(m, 'handoff_connections_rejected_total', { app: name, status }), 0, `${name} ${status}`);
  assert.strictEqual(sample(m, 'handoff_connections_rejected_total', { listener: 'alone', status: 404 }), undefined);
});
