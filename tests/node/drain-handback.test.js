'use strict';
// `drain` with `handback: true` (a successor serves the slot): an SDK worker gives every
// idle keep-alive socket back to the master (`handback`, empty head) instead of closing
// it, so that a client's next request, sent at any moment, is never met by a closing
// socket. A connection inside a request (or before its first) is served and closed as in
// a plain drain. The test plays the master: it drains `old`, takes the sockets it gives
// back and hands them to `next`. Both SDKs: hello-node and hello-cpp (from the build).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const { SCRIPTS, forkWorker, listen, exitOf, RawClient } = require('./helpers');

const WELCOME = { app: 'hello', slot: 1, workers: 1, heartbeat_ms: 0 };
const SDKS = [
  ['node', SCRIPTS.hello],
  ['cpp', SCRIPTS.helloCpp],
];
const pidOf = (res) => Number(res.headers['x-handoff-worker'].split('/')[2]);

async function get(client, path = '/pid') {
  client.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
  const res = await client.response();
  assert.equal(res.status, 200);
  return res;
}

// `old` serves every connection; what it hands back goes to `next`, as the supervisor
// routes a returned socket to the slot's new worker.
async function twoGenerations(t, script) {
  const old = await forkWorker(t, script, { welcome: { ...WELCOME, generation: 1 } });
  const next = await forkWorker(t, script, { welcome: { ...WELCOME, generation: 2 } });
  const handbacks = [];
  old.child.on('message', (message, socket) => {
    if (!message || message.handoff !== 'handback' || !socket) return;
    // child_process starts reading a received socket at once: stop before any read, so
    // that what the client sends stays in the kernel for the next worker.
    socket.pause();
    socket._handle.readStop();
    handbacks.push(message);
    next.handOver(socket, { head: message.head });
  });
  const front = await listen(t, (socket) => old.handOver(socket));
  return { old, next, handbacks, front };
}

for (const [sdk, script] of SDKS) {
  const skip = fs.existsSync(script) ? false : `${script} is not built`;

  test(`${sdk}: drain with handback gives idle keep-alive sockets back, their next requests reach the next worker`, { timeout: 60000, skip }, async (t) => {
    const { old, next, handbacks, front } = await twoGenerations(t, script);
    const idle = [];
    for (let i = 0; i < 3; i++) {
      const client = await RawClient.connect(front.port);
      t.after(() => client.close());
      assert.equal(pidOf(await get(client)), old.child.pid);
      idle.push(client);
    }
    // And one that has not sent its first request: the old worker serves it.
    const fresh = await RawClient.connect(front.port);
    t.after(() => fresh.close());
    await old.waitAcks(4);

    old.child.send({ handoff: 'drain', v: 1, timeout_ms: 30000, handback: true });
    await next.waitAcks(3);
    assert.equal(handbacks.length, 3);
    for (const message of handbacks) {
      assert.equal(message.head, '', 'nothing of a next request was read');
      assert.equal(message.listener, 't');
      assert.ok(Number.isInteger(message.id) && message.id >= 1 && message.id <= 3, `id ${message.id}`);
    }
    for (const client of idle) {
      assert.equal(client.closed, false);
      const res = await get(client);
      assert.equal(pidOf(res), next.child.pid);
      assert.notEqual(res.headers.connection, 'close');
    }
    assert.equal(old.child.exitCode, null, 'the old worker still waits for its last connection');
    const res = await get(fresh);
    assert.equal(pidOf(res), old.child.pid);
    assert.equal(res.headers.connection, 'close');
    const exit = await exitOf(old.child);
    assert.deepEqual(exit, { code: 0, signal: null });
  });

  test(`${sdk}: when only idle sockets are left, every one is sent (one ACK at a time) before the worker exits`, { timeout: 60000, skip }, async (t) => {
    const { old, next, handbacks, front } = await twoGenerations(t, script);
    const idle = [];
    for (let i = 0; i < 8; i++) {
      const client = await RawClient.connect(front.port);
      t.after(() => client.close());
      await get(client);
      idle.push(client);
    }
    old.child.send({ handoff: 'drain', v: 1, timeout_ms: 30000, handback: true });
    await next.waitAcks(8);
    assert.equal(handbacks.length, 8);
    assert.deepEqual(await exitOf(old.child), { code: 0, signal: null });
    for (const client of idle) assert.equal(pidOf(await get(client)), next.child.pid);
  });

  test(`${sdk}: a request begun before the drain is served with close, never handed back; bytes sent after the handback are not lost`, { timeout: 60000, skip }, async (t) => {
    const { old, next, handbacks, front } = await twoGenerations(t, script);
    const partial = await RawClient.connect(front.port);
    t.after(() => partial.close());
    await get(partial);
    partial.write('GET /pid HTTP/1.1\r\nHo'); // the next request has begun
    const idle = await RawClient.connect(front.port);
    t.after(() => idle.close());
    await get(idle);
    // The partial head must have reached the worker before the drain: one more request
    // on a third connection, answered after it, orders them (one loop, in order of reads).
    const probe = await RawClient.connect(front.port);
    t.after(() => probe.close());
    await get(probe);

    old.child.send({ handoff: 'drain', v: 1, timeout_ms: 30000, handback: true });
    // The moment the socket is handed back, the client speaks: a pipelined pair.
    await next.waitAcks(2); // idle and probe
    assert.equal(handbacks.length, 2);
    idle.write('GET /pid HTTP/1.1\r\nHost: x\r\n\r\nGET /pid HTTP/1.1\r\nHost: x\r\n\r\n');
    for (let i = 0; i < 2; i++) {
      const res = await idle.response();
      assert.equal(res.status, 200);
      assert.equal(pidOf(res), next.child.pid);
    }
    partial.write('st: x\r\n\r\n');
    const res = await partial.response();
    assert.equal(res.status, 200);
    assert.equal(pidOf(res), old.child.pid);
    assert.equal(res.headers.connection, 'close');
    assert.deepEqual(await exitOf(old.child), { code: 0, signal: null });
  });

  test(`${sdk}: drain without handback (shutdown) closes idle keep-alive sockets, as before`, { timeout: 60000, skip }, async (t) => {
    const { old, handbacks, front } = await twoGenerations(t, script);
    const idle = await RawClient.connect(front.port);
    t.after(() => idle.close());
    await get(idle);
    const closed = new Promise((resolve) => idle.socket.once('close', resolve));
    old.drain(30000);
    await closed;
    assert.equal(handbacks.length, 0);
    assert.deepEqual(await exitOf(old.child), { code: 0, signal: null });
  });
}
