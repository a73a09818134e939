'use strict';
// Per-request hand-back with the apps users run (plain http, Express 4 and 5, Fastify, ws,
// socket.io), through the real
// supervisor, on the Node that runs this file: its workers are started with
// process.execPath, so one run proves one Node version (run it with each of 20, 22, 24).
//
// Per-request affinity: a keep-alive connection whose next request belongs to another slot
// is handed back to the master and routed again, with or without the app's own 'upgrade'
// listeners, and a real Upgrade request is treated exactly as plain Node on this version
// treats it.
const test = require('node:test');
const assert = require('node:assert');
const crypto = require('node:crypto');
const http = require('node:http');
const path = require('node:path');
const h = require('./helpers');
const { RawClient } = require('../node/helpers');

const APPS_DIR = path.join(h.ROOT, 'tests', 'apps');
const APPS = {
  'plain http (hello-node)': [h.NODE, h.HELLO_NODE],
  'Express 4': [h.NODE, path.join(APPS_DIR, 'express-worker.js'), 'express'],
  'Express 5': [h.NODE, path.join(APPS_DIR, 'express-worker.js'), 'express5'],
  Fastify: [h.NODE, path.join(APPS_DIR, 'fastify-worker.js')],
  'ws (its own upgrade listener)': [h.NODE, path.join(APPS_DIR, 'ws-worker.js')],
  'socket.io (its own request and upgrade listeners)': [h.NODE, path.join(APPS_DIR, 'socketio-worker.js')],
};



// `count` requests one after another on one keep-alive agent (one socket at a time, as a
// browser or a proxy reuses one), to paths[i % paths.length]. Every failure is counted,
// not thrown (the agent opens a new socket after one), so a test sees how many failed.
async function alternate(port, paths, count) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const results = [];
  const sockets = new Set();
  try {
    for (let i = 0; i < count; i++) {
      h.checkMasters();
      const p = paths[i % paths.length];
      try {
        const res = await new Promise((resolve, reject) => {
          const req = http.get({ host: '127.0.0.1', port, path: p, agent }, (r) => {
            sockets.add(r.socket.localPort);
            const chunks = [];
            r.on('data', (c) => chunks.push(c));
            r.on('end', () => resolve({ status: r.statusCode, headers: r.headers, body: Buffer.concat(chunks).toString() }));
            r.on('error', reject);
          });
          req.setTimeout(h.TIMEOUT, () => req.destroy(new Error('timeout')));
          req.on('error', reject);
        });
        results.push({ path: p, status: res.status, worker: h.workerOf(res) });
      } catch (e) {
        results.push({ path: p, error: e.code || e.message });
      }
    }
  } finally {
    agent.destroy();
  }
  return { results, sockets: sockets.size };
}

function assertRightSlots({ results, sockets }, slotOf) {
  const errors = results.filter((r) => r.error);
  assert.deepStrictEqual(
    errors.length,
    0,
    `${errors.length} of ${results.length} requests failed: ${[...new Set(errors.map((e) => e.error))]}`,
  );
  for (const r of results) {
    assert.strictEqual(r.status, 200, r.path);
    assert.strictEqual(r.worker.slot, slotOf(r.path), `${r.path} answered by ${JSON.stringify(r.worker)}`);
  }
  assert.strictEqual(sockets, 1, 'one keep-alive connection all along');
}

for (const [name, command] of Object.entries(APPS)) {
  test(`${name}: 100 requests alternating two slots on one keep-alive connection, each answered by its slot`, async (t) => {
    const port = await h.freePort();
    await h.startApps(t, h.appsConfig({ port, apps: [{ command }] }), { hello: 2 });
    const run = await alternate(port, ['/1/pid', '/2/pid'], 100);
    assertRightSlots(run, (p) => Number(p[1]));
  });
}

test('a port shared by two Node apps: 100 requests alternating /a/ and /b/ on one keep-alive connection', async (t) => {
  const port = await h.freePort();
  await h.startApps(
    t,
    h.appsConfig({
      port,
      apps: [
        { name: 'a', command: APPS['Express 4'], policy: 'round_robin', extra: '    routes: ["/a/"]\n' },
        { name: 'b', command: APPS['plain http (hello-node)'], policy: 'round_robin', extra: '    routes: ["/b/"]\n' },
      ],
    }),
    { a: 2, b: 2 },
  );
  const run = await alternate(port, ['/a/pid', '/b/pid'], 100);
  assert.deepStrictEqual(run.results.filter((r) => r.error), []);
  for (const r of run.results) assert.strictEqual(r.worker.app, r.path[1], r.path);
  assert.strictEqual(run.sockets, 1);
});

// ---- real Upgrade requests ----

// What happens to each request sent one after another on one connection: 'status N' or
// 'closed'.
async function transcript(port, requests) {
  const client = await RawClient.connect(port);
  const outcomes = [];
  try {
    for (const request of requests) {
      client.write(request);
      try {
        outcomes.push(`status ${(await client.response(h.TIMEOUT)).status}`);
      } catch (e) {
        if (!client.closed) throw e;
        outcomes.push('closed');
        break;
      }
    }
  } finally {
    client.close();
  }
  return outcomes;
}

const get = (p, extra = '') => `GET ${p} HTTP/1.1\r\nHost: x\r\n${extra}\r\n`;
const UPGRADE = 'Connection: Upgrade\r\nUpgrade: websocket\r\n';

test('an app without upgrade listeners answers a real Upgrade request as plain Node does, here or after a hand-back', async (t) => {
  // Plain Node on this version, in this process: the reference.
  const plain = http.createServer((req, res) => res.end('ok'));
  await new Promise((resolve) => plain.listen(0, '127.0.0.1', resolve));
  t.after(() => plain.close());
  const port = await h.freePort();
  await h.startApps(t, h.appsConfig({ port, apps: [{ command: APPS['plain http (hello-node)'] }] }), { hello: 2 });
  for (const requests of [
    [get('/1/pid'), get('/1/pid', UPGRADE), get('/1/pid')], // stays on slot 1
    [get('/1/pid'), get('/2/pid', UPGRADE), get('/2/pid'), get('/1/pid', UPGRADE), get('/1/pid')], // handed back
    [get('/1/pid', UPGRADE), get('/2/pid')], // the first request
  ]) {
    const expected = await transcript(plain.address().port, requests);
    assert.deepStrictEqual(await transcript(port, requests), expected, requests.join(''));
  }
});

// Resolves with the first `take(buffer)` that is not null, given the client's buffer at
// each arrival of bytes; `take` returns [value, bytes used].
function readFrom(client, take, what) {
  return new Promise((resolve, reject) => {
    const done = (fn, value) => {
      clearTimeout(deadline);
      client.socket.off('data', poll);
      client.socket.off('close', poll);
      fn(value);
    };
    const deadline = setTimeout(() => done(reject, new Error(`no ${what} in ${h.TIMEOUT} ms`)), h.TIMEOUT);
    const poll = () => {
      const taken = take(client.buffer);
      if (taken) {
        client.buffer = client.buffer.subarray(taken[1]);
        done(resolve, taken[0]);
      } else if (client.closed) done(reject, new Error(`connection closed before ${what}`));
    };
    // After RawClient's own 'data' listener, which appends to client.buffer.
    client.socket.on('data', poll);
    client.socket.on('close', poll);
    poll();
  });
}

// A WebSocket handshake and one text message on a connection that served HTTP first;
// resolves with the server's answer.
async function webSocketOn(client, p) {
  const key = crypto.randomBytes(16).toString('base64');
  client.write(`GET ${p} HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`);
  const head = await readFrom(
    client,
    (b) => {
      const end = b.indexOf('\r\n\r\n');
      return end < 0 ? null : [b.subarray(0, end).toString('latin1'), end + 4];
    },
    'a 101 response',
  );
  assert.match(head, /^HTTP\/1\.1 101 /);
  const accept = crypto.createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  const accepted = /\r\nSec-WebSocket-Accept: *([^\r]*)/i.exec(head)?.[1];
  assert.strictEqual(accepted, accept);
  // A masked text frame (clients mask), short enough for a 7-bit length.
  const payload = Buffer.from('ping');
  const mask = crypto.randomBytes(4);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]));
  client.write(Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]));
  // The server's frame is not masked: 0x81, a 7-bit length, the text.
  return readFrom(
    client,
    (b) => (b.length >= 2 && b.length >= 2 + (b[1] & 0x7f) ? [b.subarray(2, 2 + (b[1] & 0x7f)).toString(), 2 + (b[1] & 0x7f)] : null),
    'a WebSocket frame',
  );
}

test('ws app: after hand-backs on one keep-alive connection, a WebSocket upgrade is served by its slot', async (t) => {
  const port = await h.freePort();
  await h.startApps(t, h.appsConfig({ port, apps: [{ command: APPS['ws (its own upgrade listener)'] }] }), { hello: 2 });
  for (const [first, then] of [
    [1, 2],
    [2, 1],
    [1, 1],
  ]) {
    // Closed before the next (and before the supervisor stops: a WebSocket left open
    // would hold its worker's drain until the deadline).
    const client = await RawClient.connect(port);
    try {
      client.write(get(`/${first}/pid`));
      assert.strictEqual(h.workerOf(await client.response(h.TIMEOUT)).slot, first);
      client.write(get(`/${then}/pid`));
      const res = await client.response(h.TIMEOUT);
      assert.strictEqual(h.workerOf(res).slot, then);
      const echoed = await webSocketOn(client, `/${then}/chat`);
      assert.strictEqual(echoed, `hello/${then}/${res.body} ping`);
    } finally {
      client.close();
    }
  }
});

test('socket.io app: a client of slot 2 connects (polling, then WebSocket) and is answered there', async (t) => {
  const { io } = require(path.join(APPS_DIR, 'node_modules', 'socket.io-client'));
  const port = await h.freePort();
  await h.startApps(t, h.appsConfig({ port, apps: [{ command: APPS['socket.io (its own request and upgrade listeners)'] }] }), { hello: 2 });
  for (const slot of [2, 1]) {
    const socket = io(`http://127.0.0.1:${port}`, { path: `/${slot}/socket.io`, reconnection: false, timeout: h.TIMEOUT });
    try {
      await new Promise((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      const answer = await socket.timeout(h.TIMEOUT).emitWithAck('echo', 'ping');
      assert.match(answer, new RegExp(`^hello/${slot}/\\d+ ping$`));
      // Then engine.io upgrades to a WebSocket, on the same slot: ask again over it.
      const engine = socket.io.engine;
      if (engine.transport.name !== 'websocket') {
        await new Promise((resolve, reject) => {
          const timer = setTimeout(() => reject(new Error('no upgrade to a WebSocket')), h.TIMEOUT);
          engine.once('upgrade', () => {
            clearTimeout(timer);
            resolve();
          });
        });
      }
      assert.strictEqual(engine.transport.name, 'websocket');
      assert.match(await socket.timeout(h.TIMEOUT).emitWithAck('echo', 'again'), new RegExp(`^hello/${slot}/\\d+ again$`));
    } finally {
      socket.disconnect();
    }
  }
});
