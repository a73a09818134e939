'use strict';
// When the channel closes (the master is gone), a worker stops serving, lets in-flight
// requests finish, and exits; it never hangs on.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { SCRIPTS, WAIT_MS, startWorker, request, waitFor, RawClient } = require('./helpers');

// The worker must exit, with code 0, within `ms`.
async function assertExits(child, ms = WAIT_MS) {
  let timer;
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`worker still running ${ms} ms after disconnect\n${child.output}`)), ms);
  });
  try {
    const exit = await Promise.race([child.exited, timeout]);
    assert.deepEqual(exit, { code: 0, signal: null }, `worker exit ${JSON.stringify(exit)}\n${child.output}`);
  } finally {
    clearTimeout(timer);
  }
}

test('hello-node exits when the master disconnects', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.hello);
  const res = await request(master.port, { headers: { connection: 'close' } });
  assert.equal(res.status, 200);
  master.child.disconnect();
  await assertExits(master.child);
});

test('idle keep-alive sockets are closed soon, not after the grace period', { timeout: 30000 }, async (t) => {
  // Grace and keep-alive timeout far beyond the wait: only closing idle sockets on
  // disconnect lets the worker exit in time.
  const master = await startWorker(t, SCRIPTS.echo, { env: { TEST_GRACE_MS: '600000' } });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const res = await request(master.port, { agent });
  assert.equal(res.headers.connection, 'keep-alive');
  const [socket] = Object.values(agent.freeSockets).flat();
  assert.ok(socket, 'the client keeps an idle socket');
  const clientSawClose = waitFor(socket, 'close', { what: 'the idle socket closing' });

  master.child.disconnect();
  await clientSawClose;
  await assertExits(master.child);
});

test('a request in flight at disconnect completes before the worker exits', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.echo, { env: { TEST_GRACE_MS: '600000' } });
  const client = await RawClient.connect(master.port);
  t.after(() => client.close());
  // /slow sends its headers now and its body only once the worker saw the disconnect.
  const headers = waitFor(client.socket, 'data', { what: 'the /slow headers' });
  client.write('GET /slow HTTP/1.1\r\nHost: x\r\n\r\n');
  await headers;

  master.child.disconnect();
  const closed = waitFor(client.socket, 'close', { what: 'the worker closing the socket' });
  await assertExits(master.child);
  await closed;
  const text = client.buffer.toString('latin1');
  assert.match(text, /^HTTP\/1\.1 200 OK\r\n/);
  assert.match(text, /\r\n\r\n4\r\ndone\r\n0\r\n\r\n$/, 'the chunked body ended properly');
});

test('a request that never ends is cut after the grace period, and the worker exits', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.echo, { env: { TEST_GRACE_MS: '500' } });
  const client = await RawClient.connect(master.port);
  t.after(() => client.close());
  const hanging = master.waitMessage((m) => m && m.test === 'hanging', 'the worker to take /hang');
  client.write('GET /hang HTTP/1.1\r\nHost: x\r\n\r\n');
  await hanging;

  const closed = waitFor(client.socket, 'close', { what: 'the worker closing the hung socket' });
  master.child.disconnect();
  await assertExits(master.child);
  await closed;
});
