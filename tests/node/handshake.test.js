'use strict';
// The SDK's side of the channel protocol, and the hello example served through it.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { SCRIPTS, startWorker, request } = require('./helpers');

test('hello then ready, with the documented fields', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.hello);
  const ours = master.messages.filter((m) => m && m.handoff);
  assert.deepEqual(ours.slice(0, 2), [
    { handoff: 'hello', v: 1, sdk: 'node', pid: master.child.pid },
    { handoff: 'ready', v: 1 },
  ]);
});

test('a handed-over connection is served; the welcome names the worker', { timeout: 30000 }, async (t) => {
  // The env says one thing, the welcome another: the welcome wins.
  const master = await startWorker(t, SCRIPTS.hello, {
    env: { HANDOFF_APP: 'from-env', HANDOFF_SLOT: '9' },
    welcome: { app: 'hello', slot: 2, workers: 3, generation: 4 },
  });
  const res = await request(master.port, { headers: { connection: 'close' } });
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), 'Hello, world!');
  assert.equal(res.headers['content-type'], 'text/plain');
  assert.equal(res.headers['content-length'], '13');
  assert.equal(res.headers['x-handoff-worker'], `hello/2/${master.child.pid}`);
  assert.equal(master.accepted, 1);
});

test('without a welcome the worker names itself from the env', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.hello, { env: { HANDOFF_APP: 'envapp', HANDOFF_SLOT: '5' } });
  const res = await request(master.port, { path: '/pid', headers: { connection: 'close' } });
  assert.equal(res.body.toString(), String(master.child.pid));
  assert.equal(res.headers['x-handoff-worker'], `envapp/5/${master.child.pid}`);
});

test('unknown messages are ignored', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.hello, { welcome: { app: 'hello', slot: 1, workers: 1, generation: 1 } });
  for (const message of [
    { handoff: 'from-the-future', v: 7, whatever: [1, 2] },
    { handoff: 'welcome', v: 1, app: 42, slot: 'x' }, // mistyped fields: kept as they were
    { cmd: 'SOMETHING_ELSE' },
    'a string',
    17,
    null,
  ]) {
    master.child.send(message);
  }
  const res = await request(master.port, { headers: { connection: 'close' } });
  assert.equal(res.status, 200);
  assert.equal(res.headers['x-handoff-worker'], `hello/1/${master.child.pid}`);
});

test('a keep-alive client does several requests on one handed-over socket', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.hello, { welcome: { app: 'hello', slot: 1, workers: 2, generation: 1 } });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const localPorts = new Set();
  for (let i = 0; i < 5; i++) {
    const res = await request(master.port, { agent, path: i % 2 ? '/pid' : '/' });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), i % 2 ? String(master.child.pid) : 'Hello, world!');
    assert.equal(res.headers.connection, 'keep-alive');
    localPorts.add(res.localPort);
  }
  assert.equal(localPorts.size, 1, 'all requests went over one client socket');
  assert.equal(master.accepted, 1, 'the master handed over exactly one connection');
});

test('several connections at once, each handed over', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.hello);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 });
  t.after(() => agent.destroy());
  const results = await Promise.all(Array.from({ length: 8 }, () => request(master.port, { agent })));
  for (const res of results) assert.equal(res.body.toString(), 'Hello, world!');
  assert.equal(master.accepted, new Set(results.map((r) => r.localPort)).size);
});
