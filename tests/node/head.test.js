'use strict';
// The `head` field of a conn message: bytes the master already read from the socket
// travel with it (base64), and the worker puts them back in front of the rest.

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const { SCRIPTS, startWorker, RawClient } = require('./helpers');

// The test master reads the first chunk itself, then hands the socket over with it.
// readStop() matters: Node's child_process leaves a sent socket's handle reading until
// the ACK (only its callback is removed), so bytes arriving meanwhile would be read by
// the test process and lost. Our C++ master stops reading before it sends.
function readFirstChunk(onHandedOver) {
  return (socket, handOver) => {
    socket.once('data', (chunk) => {
      socket.pause();
      socket._handle.readStop();
      handOver(socket, { head: chunk.toString('base64') });
      onHandedOver(chunk);
    });
    socket.resume();
  };
}

test('a partial request head read by the master is replayed, then keep-alive goes on', { timeout: 30000 }, async (t) => {
  let handedOver;
  const headSent = new Promise((resolve) => (handedOver = resolve));
  const master = await startWorker(t, SCRIPTS.hello, {
    welcome: { app: 'hello', slot: 1, workers: 1, generation: 1 },
    onConnection: readFirstChunk(handedOver),
  });
  const client = await RawClient.connect(master.port);
  t.after(() => client.close());

  const firstWrite = 'GET /pid HTTP/1.1\r\nHo';
  client.write(firstWrite);
  const head = (await headSent).toString();
  // The master's read may have been short; whatever it got must be a prefix.
  assert.ok(head.length > 0 && firstWrite.startsWith(head), head);
  client.write('st: x\r\n\r\n'); // the rest comes from the kernel, to the worker
  const first = await client.response();
  assert.equal(first.status, 200);
  assert.equal(first.body.toString(), String(master.child.pid));

  client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  const second = await client.response();
  assert.equal(second.body.toString(), 'Hello, world!');
  assert.equal(second.headers['x-handoff-worker'], `hello/1/${master.child.pid}`);
  assert.equal(master.accepted, 1);
});

test('a head with binary body bytes is replayed byte for byte before a 100 kB body', { timeout: 30000 }, async (t) => {
  let handedOver;
  const headSent = new Promise((resolve) => (handedOver = resolve));
  const master = await startWorker(t, SCRIPTS.echo, { onConnection: readFirstChunk(handedOver) });
  const client = await RawClient.connect(master.port);
  t.after(() => client.close());

  // Invalid UTF-8 on purpose: a head that went through a string would be corrupted.
  const body = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80]), crypto.randomBytes(100 * 1024)]);
  const requestHead = `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`;
  const firstWrite = Buffer.concat([Buffer.from(requestHead), body.subarray(0, 1000)]);
  client.write(firstWrite);
  const head = await headSent;
  // The master's read may have been short; whatever it got must be a prefix.
  assert.ok(head.length > 0 && head.equals(firstWrite.subarray(0, head.length)));
  client.write(body.subarray(1000));

  const res = await client.response();
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body), {
    length: body.length,
    sha256: crypto.createHash('sha256').update(body).digest('hex'),
  });
});

test('a whole request carried in the head is answered', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.hello, {
    // Hand over a socket whose request is entirely in `head`; the kernel holds nothing.
    onConnection: (socket, handOver) => {
      let head = Buffer.alloc(0);
      socket.on('data', (chunk) => {
        head = Buffer.concat([head, chunk]);
        if (head.indexOf('\r\n\r\n') < 0) return;
        socket.pause();
        socket._handle.readStop();
        handOver(socket, { head: head.toString('base64') });
      });
      socket.resume();
    },
  });
  const client = await RawClient.connect(master.port);
  t.after(() => client.close());
  client.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  const res = await client.response();
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), 'Hello, world!');
});

// The same for the C++ SDK (hello-cpp from the build): the head is fed to its HTTP session
// before anything is read from the socket.
const cppSkip = require('node:fs').existsSync(SCRIPTS.helloCpp) ? false : `${SCRIPTS.helloCpp} is not built`;

test('cpp: a request larger than the master\'s read, carried in head, arrives whole', { timeout: 30000, skip: cppSkip }, async (t) => {
  let handedOver;
  const headSent = new Promise((resolve) => (handedOver = resolve));
  const master = await startWorker(t, SCRIPTS.helloCpp, {
    welcome: { app: 'hello', slot: 1, workers: 1, generation: 1, heartbeat_ms: 0 },
    onConnection: readFirstChunk(handedOver),
  });
  const client = await RawClient.connect(master.port);
  t.after(() => client.close());

  const body = Buffer.concat([Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80]), crypto.randomBytes(100 * 1024)]);
  const requestHead = `POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`;
  const firstWrite = Buffer.concat([Buffer.from(requestHead), body.subarray(0, 1000)]);
  client.write(firstWrite);
  const head = await headSent;
  assert.ok(head.length > 0 && head.equals(firstWrite.subarray(0, head.length)));
  client.write(body.subarray(1000)); // the rest comes from the kernel, to the worker

  const res = await client.response();
  assert.equal(res.status, 200);
  assert.ok(res.body.equals(body), 'the echoed body differs');
  // Keep-alive goes on with what the socket brings.
  client.write('GET /pid HTTP/1.1\r\nHost: x\r\n\r\n');
  assert.equal((await client.response()).body.toString(), String(master.child.pid));
});

test('cpp: a partial request head carried in head is completed from the socket', { timeout: 30000, skip: cppSkip }, async (t) => {
  let handedOver;
  const headSent = new Promise((resolve) => (handedOver = resolve));
  const master = await startWorker(t, SCRIPTS.helloCpp, {
    welcome: { app: 'hello', slot: 1, workers: 1, generation: 1, heartbeat_ms: 0 },
    onConnection: readFirstChunk(handedOver),
  });
  const client = await RawClient.connect(master.port);
  t.after(() => client.close());
  client.write('GET /pid HTTP/1.1\r\nHo');
  await headSent;
  client.write('st: x\r\n\r\n');
  const res = await client.response();
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), String(master.child.pid));
});
