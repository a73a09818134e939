'use strict';
// The request heads RFC 9112 makes a server refuse, sent to a C++ SDK worker through the
// supervisor: each gets 400 and the connection closed after it, as from Node's server,
// and the worker lives on to serve the next connection. Under round_robin the master
// hands the connection over without reading it, so the answer is the worker's.
const test = require('node:test');
const assert = require('node:assert');
const net = require('node:net');
const h = require('./helpers');

const BAD_HEADS = {
  'a space before the colon (5.1)': 'GET / HTTP/1.1\r\nHost : x\r\n\r\n',
  'a tab before the colon (5.1)': 'GET / HTTP/1.1\r\nHost: x\r\nX-A\t: 1\r\n\r\n',
  'an obs-fold with a space (5.2)': 'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n 2\r\n\r\n',
  'an obs-fold with a tab (5.2)': 'GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\t2\r\n\r\n',
  'HTTP/1.1 without Host (3.2)': 'GET / HTTP/1.1\r\nX-A: 1\r\n\r\n',
  'two Host fields (3.2)': 'GET / HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n',
};

// Writes `bytes` on a new connection and resolves with everything the server sent until
// it closed the connection; rejects if it has not closed it within the test timeout.
function exchange(port, bytes) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`the server did not close; it sent ${JSON.stringify(Buffer.concat(chunks).toString('latin1'))}`));
    }, h.TIMEOUT);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => {}); // a reset after the response still ends in 'close'
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('latin1'));
    });
    socket.on('connect', () => socket.write(bytes));
  });
}

async function oneWorker(t) {
  const port = await h.freePort();
  const sup = await h.startSupervisor(h.config({ port, command: [h.HELLO_CPP], workers: 1 }), { ready: 1 });
  t.after(() => sup.stop());
  const first = await h.request({ port });
  assert.strictEqual(first.status, 200);
  return { port, pid: h.workerOf(first).pid };
}

test('a C++ SDK worker answers the heads RFC 9112 refuses with 400 and closes, then serves the next connection', async (t) => {
  const { port, pid } = await oneWorker(t);
  for (const [what, head] of Object.entries(BAD_HEADS)) {
    const text = await exchange(port, head);
    assert.match(text, /^HTTP\/1\.1 400 Bad Request\r\n/, what);
    assert.match(text, /\r\nConnection: close\r\n/, what);
    assert.strictEqual(text.split('HTTP/1.1 ').length - 1, 1, `${what}: one response`);
    const next = await h.request({ port });
    assert.strictEqual(next.status, 200, `${what}: the next connection`);
    assert.strictEqual(h.workerOf(next).pid, pid, `${what}: served by the same worker`);
  }
});

test('a C++ SDK worker serves HTTP/1.0 without Host; behind a good request a bad head gets 400 after its answer', async (t) => {
  const { port } = await oneWorker(t);
  assert.match(await exchange(port, 'GET / HTTP/1.0\r\n\r\n'), /^HTTP\/1\.1 200 OK\r\n[^]*Hello, world!$/);
  const text = await exchange(
    port,
    'GET / HTTP/1.1\r\nHost: x\r\n\r\n' + BAD_HEADS['an obs-fold with a space (5.2)'] + 'GET / HTTP/1.1\r\nHost: x\r\n\r\n',
  );
  const statuses = text.match(/HTTP\/1\.1 \d{3} /g); // the bodies ("Hello, world!") hold no status line
  assert.deepStrictEqual(statuses, ['HTTP/1.1 200 ', 'HTTP/1.1 400 '], 'nothing for the request after the bad one');
});
