'use strict';
// examples/hello-node/plain.js: no SDK, no handshake (`ready: on_spawn`), just Node's
// own 'message' event with the socket.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { SCRIPTS, startWorker, request } = require('./helpers');

test('plain.js serves handed-over connections without the SDK', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.plain, {
    handshake: false, // it sends nothing: the master takes it as ready on spawn
    env: { HANDOFF_APP: 'plain', HANDOFF_SLOT: '3' },
  });
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  for (const path of ['/', '/pid', '/']) {
    const res = await request(master.port, { agent, path });
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), path === '/pid' ? String(master.child.pid) : 'Hello, world!');
    assert.equal(res.headers['x-handoff-worker'], `plain/3/${master.child.pid}`);
  }
  assert.equal(master.accepted, 1);
  assert.deepEqual(master.messages, []);
  // Still alive and serving a second connection: the 'message' listener keeps it up.
  assert.equal(master.child.exitCode, null);
  const res = await request(master.port, { headers: { connection: 'close' } });
  assert.equal(res.body.toString(), 'Hello, world!');
  assert.equal(master.accepted, 2);
});
