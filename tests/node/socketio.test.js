'use strict';
// socketio(io) (worker-sdk/node/socketio.js) with the real socket.io and engine.io from
// tests/apps (`cd tests/apps && npm ci`): the session ids a worker issues are the ones the
// master's rule sends back to its slot, for the slot and worker count of the latest
// `welcome`. The test plays the master (helpers.js); tests/integration/socketio.test.js
// proves the same through the real supervisor with socket.io-client.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const path = require('node:path');
const { createRequire } = require('node:module');
const { startWorker, request, waitFor } = require('./helpers');
const { socketio } = require('../../worker-sdk/node');
const { slotForKey } = require('../../worker-sdk/node/route-key');

const APPS = path.join(__dirname, '..', 'apps');
const APP = path.join(APPS, 'socketio', 'server.js');
function appPackage(name) {
  try {
    return createRequire(path.join(APPS, 'package.json'))(name);
  } catch (e) {
    throw new Error(`${name} is missing from tests/apps: run "cd tests/apps && npm ci" (${e.message})`);
  }
}
const { Server } = appPackage('socket.io');
const engineio = appPackage('engine.io');

const welcome = (slot, workers) => ({ app: 'sio', slot, workers, generation: 1, heartbeat_ms: 0 });

// An engine.io handshake on a fresh connection: { status, sid, body }.
async function handshake(port) {
  const res = await request(port, { path: '/socket.io/?EIO=4&transport=polling', headers: { connection: 'close' } });
  const body = res.body.toString();
  const open = /^0(\{.*\})$/.exec(body);
  return { status: res.status, body, sid: open ? JSON.parse(open[1]).sid : null, headers: res.headers };
}

const slotOf = (sid, workers) => slotForKey(encodeURIComponent(sid), workers) + 1;

// The id reaches `slot` under every worker count from `slot` to `most`.
function assertRoutedHere(sid, slot, most) {
  for (let n = slot; n <= most; n++) assert.equal(slotOf(sid, n), slot, `${sid} among ${n}`);
}

test('a worker issues only session ids that hash to its slot, for any count up to maxWorkers', { timeout: 60000 }, async (t) => {
  const master = await startWorker(t, APP, { env: { HANDOFF_APP: 'sio' }, welcome: welcome(3, 4) });
  for (let i = 0; i < 40; i++) {
    const { status, sid, body } = await handshake(master.port);
    assert.equal(status, 200, body);
    assertRoutedHere(sid, 3, 16); // the default: twice the count, at least 16
  }
  // A later welcome (another count) is what the next ids follow. The welcome and the next
  // socket travel on one channel, in order.
  master.child.send({ handoff: 'welcome', v: 1, ...welcome(2, 40) });
  for (let i = 0; i < 20; i++) assertRoutedHere((await handshake(master.port)).sid, 2, 80);
});

test('maxWorkers chosen by the app', { timeout: 60000 }, async (t) => {
  const env = { HANDOFF_APP: 'sio', SOCKETIO_MAX_WORKERS: '100' };
  const master = await startWorker(t, APP, { env, welcome: welcome(5, 6) });
  for (let i = 0; i < 20; i++) assertRoutedHere((await handshake(master.port)).sid, 5, 100);
  // Fewer than the workers there are: the count itself wins.
  master.child.send({ handoff: 'welcome', v: 1, ...welcome(5, 120) });
  for (let i = 0; i < 10; i++) assertRoutedHere((await handshake(master.port)).sid, 5, 120);
});

test('with the cookie option the io cookie is the session id, URL-safe as sent', { timeout: 60000 }, async (t) => {
  const master = await startWorker(t, APP, { env: { HANDOFF_APP: 'sio', SOCKETIO_COOKIE: '1' }, welcome: welcome(1, 3) });
  for (let i = 0; i < 20; i++) {
    const { sid, headers } = await handshake(master.port);
    const cookie = /^io=([^;]*);/.exec(headers['set-cookie'][0]);
    assert.equal(cookie[1], sid);
    assert.equal(slotOf(cookie[1], 3), 1);
  }
});

test('a generateId that repeats itself: the handshake is refused, with the reason', { timeout: 60000 }, async (t) => {
  const master = await startWorker(t, APP, { env: { HANDOFF_APP: 'sio', SOCKETIO_IDS: 'constant' }, welcome: welcome(1, 4) });
  const id = 'always-the-same';
  // One slot is the id's own (among 16, the default headroom for 4 workers): there the id
  // is fine; the others cannot issue one.
  const own = slotOf(id, 16);
  assert.ok(own <= 4, 'the test needs an id of one of the 4 slots');
  const other = own === 1 ? 2 : 1;
  master.child.send({ handoff: 'welcome', v: 1, ...welcome(other, 4) });
  const refused = await handshake(master.port);
  assert.equal(refused.status, 400, refused.body);
  assert.match(refused.body, /"code":3/); // engine.io's BAD_REQUEST
  const line = /connection_error code=3 .*no session id for slot \d+ of 16 in \d+ draws/;
  if (!line.test(master.child.output)) await waitFor(master.child.stderr, 'data', { pred: () => line.test(master.child.output) });
  master.child.send({ handoff: 'welcome', v: 1, ...welcome(own, 4) });
  assert.equal((await handshake(master.port)).sid, id);
});

test('standalone (no supervisor) the ids are engine.io\'s own; socket.io before attach, engine.io, twice', async () => {
  // This process is not a supervised worker: ids pass through untouched.
  const engine = new engineio.Server();
  assert.equal(socketio(engine), engine);
  assert.equal(socketio(engine), engine, 'again: nothing more');
  const io = new Server();
  assert.equal(socketio(io), io);
  io.attach(http.createServer()); // binds its engine now: patched then
  for (const server of [engine, io.engine]) {
    assert.equal(server.generateId.name, 'generateRoutedId');
    const [a, b] = [await server.generateId({}), await server.generateId({})];
    assert.match(a, /^[A-Za-z0-9_-]{20}$/);
    assert.notEqual(a, b);
  }
});

test('the app may set its own generateId after socketio(): its ids are the ones drawn', async () => {
  const engine = socketio(new engineio.Server());
  engine.generateId = () => 'mine';
  assert.equal(engine.generateId.name, 'generateRoutedId');
  assert.equal(await engine.generateId({}), 'mine');
  assert.throws(() => (engine.generateId = 42), TypeError);
});

test('anything but a socket.io or engine.io Server is refused, and a maxWorkers that is no count', () => {
  for (const value of [null, undefined, 42, 'io', {}, { bind() {} }, http.createServer()]) {
    assert.throws(() => socketio(value), TypeError, String(value));
  }
  for (const maxWorkers of [0, -1, 2.5, '8', NaN]) {
    assert.throws(() => socketio(new engineio.Server(), { maxWorkers }), RangeError, String(maxWorkers));
  }
});
