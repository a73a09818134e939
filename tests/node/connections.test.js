'use strict';
// Bodies arrive whole, and the server's connection accounting works although the
// sockets come from the master instead of server.listen().

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const http = require('node:http');
const { SCRIPTS, startWorker, request, RawClient } = require('./helpers');

const sha256 = (bytes) => crypto.createHash('sha256').update(bytes).digest('hex');

test('a 100 kB POST body arrives whole, twice on one keep-alive socket', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.echo);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  for (let i = 0; i < 2; i++) {
    const body = crypto.randomBytes(100 * 1024);
    const res = await request(master.port, { method: 'POST', path: '/echo', body, agent });
    assert.equal(res.status, 200);
    assert.deepEqual(JSON.parse(res.body), { length: body.length, sha256: sha256(body) });
  }
  assert.equal(master.accepted, 1);
});

test('getConnections() counts handed-over sockets, and their closing', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.echo);
  const agents = [1, 2].map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  t.after(() => agents.forEach((agent) => agent.destroy()));

  await request(master.port, { agent: agents[0] });
  const both = await request(master.port, { agent: agents[1], path: '/connections' });
  assert.equal(both.body.toString(), '2');

  const closed = master.waitMessage((m) => m && m.test === 'socket-closed', 'socket-closed');
  agents[0].destroy();
  assert.equal((await closed).connections, 1);
  const one = await request(master.port, { agent: agents[1], path: '/connections' });
  assert.equal(one.body.toString(), '1');
});

test('server.close(cb) waits for handed-over connections, then calls back without error', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.echo);
  const isClosed = (m) => m && m.test === 'server-closed';
  // An idle keep-alive connection, which close() must close itself.
  const idle = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => idle.destroy());
  await request(master.port, { agent: idle });

  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const idleClosed = master.waitMessage((m) => m && m.test === 'socket-closed', 'the idle socket closing');
  const res = await request(master.port, { agent, path: '/close' });
  assert.equal(res.body.toString(), 'closing');
  assert.equal((await idleClosed).connections, 1);
  // The channel is ordered: had close(cb) not waited for the connection still open, its
  // report would have come before this one.
  assert.equal(master.messages.filter(isClosed).length, 0, 'close(cb) called back while a connection was open');

  // As with a listening server, the connection that asked stays open (keep-alive) until
  // its client closes it.
  agent.destroy();
  const closed = await master.waitMessage(isClosed, 'server-closed');
  assert.equal(closed.error, null);
  assert.equal(master.messages.filter((m) => m && m.test === 'close-event').length, 1);
});

test('the server does not emit close when its last connection ends', { timeout: 30000 }, async (t) => {
  // The server never listened, so net.Server alone would take 0 connections for closed.
  const master = await startWorker(t, SCRIPTS.echo);
  const reports = (name) => master.messages.filter((m) => m && m.test === name);
  for (let i = 1; i <= 2; i++) {
    const socketClosed = master.waitMessage((m) => m && m.test === 'socket-closed' && reports('socket-closed').length === i);
    await request(master.port, { headers: { connection: 'close' } });
    assert.equal((await socketClosed).connections, 0);
  }
  // The channel is ordered: a 'close' emitted when the first socket ended came before.
  assert.deepEqual(reports('close-event'), []);
});

test('headersTimeout answers 408 on a handed-over socket (slowloris)', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.echo, { env: { TEST_HEADERS_TIMEOUT_MS: '300' } });
  const client = await RawClient.connect(master.port);
  t.after(() => client.close());
  client.write('GET / HTTP/1.1\r\nHo'); // and never the rest
  const res = await client.response();
  assert.equal(res.status, 408);
});
