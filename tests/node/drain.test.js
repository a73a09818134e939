'use strict';
// `drain` (and SIGTERM): the worker retires without failing a single client. Requests in
// progress finish, their connections close after the response; connections without a
// request yet are served (with Connection: close); idle keep-alive connections are closed
// once quiet; then the worker exits with code 0.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { SCRIPTS, waitFor, forkWorker, listen, startWorker, exitOf, request, RawClient } = require('./helpers');

const WELCOME = { app: 'hello', slot: 1, workers: 2, generation: 1 };
const isTest = (name) => (m) => m && m.test === name;

// Resolves when the worker has closed a RawClient's connection (perhaps already).
function closed(client, what) {
  if (client.closed) return Promise.resolve();
  return waitFor(client.socket, 'close', { what });
}

async function assertCleanExit(child) {
  const exit = await exitOf(child);
  assert.deepEqual(exit, { code: 0, signal: null }, `worker exit ${JSON.stringify(exit)}\n${child.output}`);
}

test('drain with no connections: the worker exits at once with code 0', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.echo, { env: { TEST_GRACE_MS: '600000' } });
  const disconnected = waitFor(master.child, 'disconnect', { what: 'the worker disconnecting' });
  master.drain(600000);
  await disconnected; // the worker closes the channel itself
  await assertCleanExit(master.child);
  const drain = master.messages.find(isTest('drain'));
  assert.deepEqual(drain, { test: 'drain', reason: 'drain', timeoutMs: 600000 });
});

test('a request in progress at drain completes with Connection: close, then the worker exits', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.echo, { env: { TEST_GRACE_MS: '600000' } });
  const client = await RawClient.connect(master.port);
  t.after(() => client.close());
  client.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n'); // HTTP/1.1: keep-alive unless told
  await master.waitMessage(isTest('holding'), 'the worker to take /hold');

  master.drain(600000);
  await master.waitMessage(isTest('drain'), 'the drain event');
  master.child.send({ test: 'release' });
  const res = await client.response();
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), 'released');
  assert.equal(res.headers.connection, 'close');
  await closed(client, 'the worker closing the connection');
  await assertCleanExit(master.child);
});

test('hello-node: a /slow request in flight at drain completes with connection: close', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.hello, { welcome: WELCOME });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const slow = request(master.port, { agent, path: '/slow?ms=400' });
  // The worker has the connection (and almost always the request, sent with it).
  await master.waitAcks(1);
  master.drain(600000);
  const res = await slow;
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), 'slow 400 ms');
  assert.equal(res.headers.connection, 'close');
  await assertCleanExit(master.child);
});

test('idle keep-alive connections close once quiet; a connection without a request yet is served', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.echo, { env: { TEST_GRACE_MS: '600000' } });
  // An idle keep-alive connection (one response done)...
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const first = await request(master.port, { agent });
  assert.equal(first.headers.connection, 'keep-alive');
  const [idleSocket] = Object.values(agent.freeSockets).flat();
  assert.ok(idleSocket, 'the client keeps an idle socket');
  const idleClosed = waitFor(idleSocket, 'close', { what: 'the idle socket closing' });
  // ...and one that has sent nothing yet, which the worker has got (ACKed).
  const fresh = await RawClient.connect(master.port);
  t.after(() => fresh.close());
  await master.waitAcks(2);

  master.drain(600000);
  await idleClosed; // the fixture's keepAliveTimeout is 120 s: the drain closed it
  assert.equal(fresh.closed, false, 'the connection without a request was closed');
  assert.equal(master.child.exitCode, null);

  fresh.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  const res = await fresh.response();
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), 'Hello, world!');
  assert.equal(res.headers.connection, 'close');
  await closed(fresh, 'the served connection closing');
  await assertCleanExit(master.child);
});

test("the drain's numbers are the master's: welcome's idle grace keeps an idle connection open that long", { timeout: 30000 }, async (t) => {
  // 1.5 s instead of drain.js's own 100 ms: a close any sooner means welcome was ignored.
  const graceMs = 1500;
  const drain = { deadline_margin_ms: 100, deadline_margin_divisor: 10, idle_grace_ms: graceMs };
  const master = await startWorker(t, SCRIPTS.echo, { env: { TEST_GRACE_MS: '600000' }, welcome: { ...WELCOME, drain } });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  await request(master.port, { agent });
  const idleBefore = performance.now(); // the worker saw it idle before this
  const [idleSocket] = Object.values(agent.freeSockets).flat();
  assert.ok(idleSocket, 'the client keeps an idle socket');
  const idleClosed = waitFor(idleSocket, 'close', { what: 'the idle socket closing' });
  master.drain(600000);
  await idleClosed;
  const after = performance.now() - idleBefore;
  // The response's 'finish' (idle from then) came before the client had it: a few ms of slack.
  assert.ok(after >= graceMs - 100, `closed ${Math.round(after)} ms after it went idle, before welcome's ${graceMs} ms grace`);
  await assertCleanExit(master.child);
});

// The stall: a handler holds the worker's loop for 3 s while the client sends its next
// request on an idle keep-alive connection whose grace (300 ms) ends meanwhile. Timers run
// before the loop reads; a close decided on the timer alone reset that request.
for (const [kind, script, blocking] of [
  ['Node SDK', SCRIPTS.echo, (master) => master.waitMessage(isTest('blocking'), 'the worker to block')],
  ['C++ SDK', SCRIPTS.helloCpp, (master) => waitFor(master.child.stdout, 'data', { pred: (s) => String(s).includes('blocking'), what: 'the worker to block' })],
]) {
  test(`${kind}: after a stall longer than the idle grace, a request that arrived during it is served, not reset`, { timeout: 30000 }, async (t) => {
    const drain = { deadline_margin_ms: 100, deadline_margin_divisor: 10, idle_grace_ms: 300 };
    const master = await startWorker(t, script, { env: { TEST_GRACE_MS: '600000' }, welcome: { ...WELCOME, drain } });
    const idle = new http.Agent({ keepAlive: true, maxSockets: 1 });
    t.after(() => idle.destroy());
    await request(master.port, { agent: idle });
    const blocker = await RawClient.connect(master.port);
    t.after(() => blocker.close());
    await master.waitAcks(2);
    const blocked = blocking(master);
    master.drain(600000);
    blocker.write('GET /block?ms=3000 HTTP/1.1\r\nHost: x\r\n\r\n');
    await blocked;
    // The worker's loop is held now: this request waits in its kernel buffer.
    const [socket] = Object.values(idle.freeSockets).flat();
    assert.ok(socket, 'the idle connection is still open when the stall begins');
    const res = await request(master.port, { agent: idle });
    assert.equal(res.status, 200);
    assert.equal(res.localPort, socket.localPort, 'served on the connection that was idle');
    assert.equal(res.headers.connection, 'close');
    assert.equal((await blocker.response()).status, 200);
    await assertCleanExit(master.child);
  });
}

test('headersTimeout still applies while draining, even after the app calls server.close()', { timeout: 30000 }, async (t) => {
  // http.Server's own close() would stop the timeout checks; the SDK defers it.
  const master = await startWorker(t, SCRIPTS.echo, {
    env: { TEST_GRACE_MS: '600000', TEST_HEADERS_TIMEOUT_MS: '300', TEST_CLOSE_ON_DRAIN: '1' },
  });
  const client = await RawClient.connect(master.port);
  t.after(() => client.close());
  client.write('GET / HTTP/1.1\r\nHo'); // and never the rest
  await master.waitAcks(1);
  master.drain(600000);
  const res = await client.response();
  assert.equal(res.status, 408);
  await closed(client, 'the timed-out connection closing');
  await assertCleanExit(master.child);
});

test('a keep-alive connection inside its next request head is not closed as idle', { timeout: 30000 }, async (t) => {
  // Heartbeats every 50 ms serve as the worker's clock: no sleeps in the test.
  const master = await startWorker(t, SCRIPTS.echo, {
    env: { TEST_GRACE_MS: '600000' },
    welcome: { ...WELCOME, heartbeat_ms: 50 },
  });
  const client = await RawClient.connect(master.port);
  t.after(() => client.close());
  client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal((await client.response()).headers.connection, 'keep-alive');
  client.write('GET /connections HTTP/1.1\r\nHo'); // the next head, begun
  // Its bytes are in the worker before the drain: ask for an answer that comes after them.
  const probe = await RawClient.connect(master.port);
  t.after(() => probe.close());
  probe.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  await probe.response();

  master.drain(600000);
  await master.waitMessage(isTest('drain'), 'the drain event');
  const from = master.messages.length;
  // Six heartbeats: well over the 100 ms an idle connection is given.
  await master.waitMessage(
    () => master.messages.slice(from).filter((m) => m && m.handoff === 'stats').length >= 6,
    'six heartbeats into the drain',
  );
  assert.equal(client.closed, false, 'closed in the middle of a request head');
  client.write('st: x\r\n\r\n');
  const res = await client.response();
  assert.equal(res.status, 200);
  assert.equal(res.headers.connection, 'close');
  await closed(client, 'the connection closing after its response');
  await assertCleanExit(master.child);
});

test('a connection handed over after the drain (in flight) is still served', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.echo, { env: { TEST_GRACE_MS: '600000' } });
  // A request held open keeps the worker draining rather than gone.
  const holder = await RawClient.connect(master.port);
  t.after(() => holder.close());
  holder.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
  await master.waitMessage(isTest('holding'), 'the worker to take /hold');

  master.drain(600000);
  await master.waitMessage(isTest('drain'), 'the drain event');
  // The test master still routes to this worker: as if a socket had crossed the drain.
  const late = await RawClient.connect(master.port);
  t.after(() => late.close());
  late.write('GET /connections HTTP/1.1\r\nHost: x\r\n\r\n');
  const res = await late.response();
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), '2');
  assert.equal(res.headers.connection, 'close');
  await closed(late, 'the late connection closing');

  assert.equal(master.child.exitCode, null, 'the worker left while a request was held');
  master.child.send({ test: 'release' });
  const held = await holder.response();
  assert.equal(held.body.toString(), 'released');
  assert.equal(held.headers.connection, 'close');
  await assertCleanExit(master.child);
});

test('a request that outlives timeout_ms is cut, and the worker exits with code 0', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.echo, { env: { TEST_GRACE_MS: '600000' } });
  const client = await RawClient.connect(master.port);
  t.after(() => client.close());
  client.write('GET /hang HTTP/1.1\r\nHost: x\r\n\r\n');
  await master.waitMessage(isTest('hanging'), 'the worker to take /hang');
  master.drain(500);
  await assertCleanExit(master.child);
  await closed(client, 'the hung connection being cut');
});

test('heartbeats go on during a drain', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.echo, {
    env: { TEST_GRACE_MS: '600000' },
    welcome: { ...WELCOME, heartbeat_ms: 50 },
  });
  const client = await RawClient.connect(master.port);
  t.after(() => client.close());
  client.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
  await master.waitMessage(isTest('holding'), 'the worker to take /hold');
  master.drain(600000);
  const drainAt = master.messages.length;
  const during = await master.waitMessage(
    (m) => m && m.handoff === 'stats' && master.messages.indexOf(m) >= drainAt,
    'stats during the drain',
  );
  assert.equal(during.connections, 1);
  master.child.send({ test: 'release' });
  await client.response();
  await assertCleanExit(master.child);
});

test('SIGTERM drains like `drain`; a second SIGTERM exits at once', { timeout: 30000 }, async (t) => {
  // First: SIGTERM alone, with a request held; it is answered, then the worker exits.
  const master = await startWorker(t, SCRIPTS.echo, { env: { TEST_GRACE_MS: '600000' } });
  const client = await RawClient.connect(master.port);
  t.after(() => client.close());
  client.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
  await master.waitMessage(isTest('holding'), 'the worker to take /hold');
  master.child.kill('SIGTERM');
  const drain = await master.waitMessage(isTest('drain'), 'the drain event');
  assert.deepEqual(drain, { test: 'drain', reason: 'SIGTERM', timeoutMs: 600000 });
  master.child.send({ test: 'release' });
  const res = await client.response();
  assert.equal(res.body.toString(), 'released');
  assert.equal(res.headers.connection, 'close');
  await assertCleanExit(master.child);

  // Then: a second SIGTERM while a request is held cuts it and exits.
  const second = await startWorker(t, SCRIPTS.echo, { env: { TEST_GRACE_MS: '600000' } });
  const held = await RawClient.connect(second.port);
  t.after(() => held.close());
  held.write('GET /hold HTTP/1.1\r\nHost: x\r\n\r\n');
  await second.waitMessage(isTest('holding'), 'the worker to take /hold');
  second.child.kill('SIGTERM');
  await second.waitMessage(isTest('drain'), 'the drain event');
  second.child.kill('SIGTERM');
  await assertCleanExit(second.child);
  await closed(held, 'the held connection being cut');
});

test('under keep-alive load, a drained worker fails no request; new connections go to a fresh worker', { timeout: 60000 }, async (t) => {
  // The test master routes like the supervisor: to `old` until it drains it, then to `fresh`.
  const old = await forkWorker(t, SCRIPTS.hello, { welcome: { ...WELCOME, slot: 1 } });
  const fresh = await forkWorker(t, SCRIPTS.hello, { welcome: { ...WELCOME, slot: 1, generation: 2 } });
  let target = old;
  const front = await listen(t, (socket) => target.handOver(socket));

  const AGENTS = 8;
  const agents = Array.from({ length: AGENTS }, () => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  t.after(() => agents.forEach((agent) => agent.destroy()));
  const pidOf = (res) => Number(res.headers['x-handoff-worker'].split('/')[2]);
  const served = new Map([
    [old.child.pid, { total: 0, close: 0 }],
    [fresh.child.pid, { total: 0, close: 0 }],
  ]);
  const errors = [];
  let completed = 0;
  let drained = false;
  let stop = false;
  let startDrain;
  const drainPoint = new Promise((resolve) => (startDrain = resolve));
  let servedAfter = 0; // by the fresh worker
  let enough;
  const enoughAfter = new Promise((resolve) => (enough = resolve));

  const loop = async (agent, n) => {
    for (let i = 0; !stop; i++) {
      try {
        // Some requests take a while, so that some are in progress when the drain comes.
        const path = (i + n) % 4 === 0 ? '/slow?ms=15' : '/';
        const res = await request(front.port, { agent, path });
        assert.equal(res.status, 200);
        const counts = served.get(pidOf(res));
        counts.total++;
        if (res.headers.connection === 'close') counts.close++;
        completed++;
        const elapsed = performance.now() - startedAt;
        if (completed >= 300 && elapsed >= 400) startDrain();
        if (drained && pidOf(res) === fresh.child.pid && ++servedAfter >= 300 && elapsed >= 1000) enough();
      } catch (err) {
        errors.push(err);
        if (errors.length > 20) stop = true;
      }
    }
  };
  const startedAt = performance.now();
  const loops = agents.map(loop);
  await drainPoint;
  // As the supervisor: stop sending the old worker sockets, then drain it.
  target = fresh;
  old.drain(30000);
  drained = true;
  const oldExit = await exitOf(old.child);
  await Promise.race([enoughAfter, Promise.all(loops)]);
  stop = true;
  await Promise.all(loops);
  const elapsed = performance.now() - startedAt;

  assert.deepEqual(errors.map(String), [], 'client errors');
  assert.deepEqual(oldExit, { code: 0, signal: null }, old.child.output);
  const o = served.get(old.child.pid);
  const f = served.get(fresh.child.pid);
  assert.ok(o.total >= 300, `old worker served ${o.total}`);
  assert.ok(f.total >= 300, `fresh worker served ${f.total}`);
  // Each of the old worker's connections ended with a `Connection: close` response (or
  // closed while quiet): never more of them than connections it had.
  assert.ok(o.close > 0 && o.close <= front.accepted, `${o.close} close responses, ${front.accepted} connections`);
  assert.equal(f.close, 0);
  t.diagnostic(`old ${JSON.stringify(o)}, fresh ${JSON.stringify(f)}, connections ${front.accepted}, ${Math.round(elapsed)} ms`);
});
