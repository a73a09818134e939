'use strict';
// Not started by the supervisor, an SDK app listens by itself (PORT, HOST).

const test = require('node:test');
const assert = require('node:assert/strict');
const { SCRIPTS, startStandalone, request } = require('./helpers');

test('standalone: server.js listens on PORT and answers as "standalone"', { timeout: 30000 }, async (t) => {
  const { child, port } = await startStandalone(t, SCRIPTS.hello);
  const res = await request(port, { headers: { connection: 'close' } });
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), 'Hello, world!');
  assert.equal(res.headers['x-handoff-worker'], `standalone/0/${child.pid}`);
});

test('HANDOFF_APP without an IPC channel is still standalone', { timeout: 30000 }, async (t) => {
  const { child, port } = await startStandalone(t, SCRIPTS.hello, { env: { HANDOFF_APP: 'hello', HANDOFF_SLOT: '1' } });
  const res = await request(port, { headers: { connection: 'close' } });
  assert.equal(res.headers['x-handoff-worker'], `standalone/0/${child.pid}`);
});

test('an IPC channel without HANDOFF_APP is still standalone, and says nothing', { timeout: 30000 }, async (t) => {
  // E.g. a process manager that forks with IPC: the app must just listen.
  const { child, port } = await startStandalone(t, SCRIPTS.hello, { ipc: true });
  const res = await request(port, { path: '/pid', headers: { connection: 'close' } });
  assert.equal(res.body.toString(), String(child.pid));
  assert.equal(res.headers['x-handoff-worker'], `standalone/0/${child.pid}`);
  assert.deepEqual(child.messages, []);
});
