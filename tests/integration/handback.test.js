'use strict';
// Per-request affinity on keep-alive connections, end to end: the real supervisor routes
// a connection by its first request; an SDK worker checks each next request and hands the
// socket back (`handback`, with the bytes it read and did not serve) when the request
// belongs to another slot or app; the master routes it again. A plain Node worker (no
// SDK) keeps its connections: all their requests go to the first request's slot.
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const h = require('./helpers');
const { RawClient } = require('../node/helpers');

const SDKS = [
  { name: 'C++ SDK (hello-cpp)', command: [h.HELLO_CPP] },
  { name: 'Node SDK (hello-node)', command: [h.NODE, h.HELLO_NODE] },
];



// One keep-alive connection; `send` writes one request and resolves with its response.
async function connection(t, port) {
  const client = await RawClient.connect(port);
  t.after(() => client.close());
  const localPort = client.socket.localPort;
  return {
    client,
    async get(path) {
      client.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      const res = await client.response(h.TIMEOUT);
      assert.strictEqual(res.status, 200, path);
      assert.strictEqual(client.socket.localPort, localPort);
      assert.ok(!client.closed, 'the connection stays open');
      return { ...res, worker: h.workerOf(res) };
    },
  };
}

for (const sdk of SDKS) {
  test(`${sdk.name}: one keep-alive connection alternating /1/ /2/ /3/ ... reaches the right slot each time`, async (t) => {
    const port = await h.freePort();
    await h.startApps(t, h.appsConfig({ port, apps: [{ command: sdk.command, workers: 4 }] }), { hello: 4 });
    const conn = await connection(t, port);
    const order = [1, 2, 3, 1, 4, 4, 2, 1, 3, 2];
    const pids = new Map();
    for (const slot of order) {
      const { worker } = await conn.get(`/${slot}/room/pid`);
      assert.strictEqual(worker.slot, slot);
      if (!pids.has(slot)) pids.set(slot, worker.pid);
      assert.strictEqual(worker.pid, pids.get(slot));
    }
    assert.strictEqual(new Set(pids.values()).size, 4);
  });

  test(`${sdk.name}: a 1 MB POST for another slot on a keep-alive connection arrives whole`, async (t) => {
    const port = await h.freePort();
    await h.startApps(t, h.appsConfig({ port, apps: [{ command: sdk.command, workers: 4 }] }), { hello: 4 });
    const conn = await connection(t, port);
    assert.strictEqual((await conn.get('/1/pid')).worker.slot, 1);
    const body = crypto.randomBytes(1 << 20);
    conn.client.write(`POST /2/echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
    conn.client.write(body);
    const res = await conn.client.response(h.TIMEOUT);
    assert.strictEqual(res.status, 200);
    assert.strictEqual(h.workerOf(res).slot, 2);
    assert.strictEqual(res.body.length, body.length);
    assert.ok(res.body.equals(body), 'the echoed body differs');
    assert.strictEqual((await conn.get('/3/pid')).worker.slot, 3);
  });
}

test('port sharing: one keep-alive connection alternating /a/ and /b/ reaches the right app each time', async (t) => {
  const port = await h.freePort();
  await h.startApps(
    t,
    h.appsConfig({
      port,
      apps: [
        { name: 'a', command: [h.HELLO_CPP], policy: 'round_robin', extra: '    routes: ["/a/"]\n' },
        { name: 'b', command: [h.NODE, h.HELLO_NODE], policy: 'round_robin', extra: '    routes: ["/b/"]\n' },
      ],
    }),
    { a: 2, b: 2 },
  );
  const conn = await connection(t, port);
  for (const app of ['a', 'b', 'b', 'a', 'b', 'a', 'a', 'b']) {
    const { worker } = await conn.get(`/${app}/pid`);
    assert.strictEqual(worker.app, app);
  }
});

test('a plain Node worker without the SDK keeps the connection: every request goes to the first slot', async (t) => {
  const port = await h.freePort();
  await h.startApps(
    t,
    h.appsConfig({ port, apps: [{ command: [h.NODE, h.PLAIN_NODE], workers: 4, extra: '    ready: on_spawn\n' }] }),
    { hello: 4 },
  );
  const conn = await connection(t, port);
  const first = (await conn.get('/1/pid')).worker;
  assert.strictEqual(first.slot, 1);
  for (const slot of [2, 3, 4, 2]) {
    const { worker } = await conn.get(`/${slot}/pid`);
    assert.deepStrictEqual(worker, first, 'a plain worker cannot hand a connection back');
  }
});
