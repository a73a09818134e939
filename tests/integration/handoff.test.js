'use strict';
// Requests through the supervisor reach both kinds of worker, which serve the socket
// the master handed them.
const test = require('node:test');
const assert = require('node:assert');
const h = require('./helpers');

const kinds = [
  { name: 'C++ SDK worker (hello-cpp)', command: [h.HELLO_CPP], extra: '' },
  { name: 'Node SDK worker (hello-node)', command: [h.NODE, h.HELLO_NODE], extra: '' },
  { name: 'plain Node worker without SDK (ready: on_spawn)', command: [h.NODE, h.PLAIN_NODE], extra: '    ready: on_spawn\n' },
];

for (const kind of kinds) {
  test(`${kind.name} answers through the supervisor`, async (t) => {
    const port = await h.freePort();
    const sup = await h.startSupervisor(h.config({ port, command: kind.command, workers: 2, extra: kind.extra }), {
      ready: kind.extra ? 0 : 2,
    });
    t.after(() => sup.stop());
    if (kind.extra) {
      await sup.log.waitFor(/event=spawn app=hello slot=1 /);
      await sup.log.waitFor(/event=spawn app=hello slot=2 /);
    }
    // Until both slots answered: the master's round robin takes 2 connections; the kernel's
    // spread (SDK workers get kernel dispatch) picks by the client's port, and 64 miss a
    // slot with probability 2^-63.
    const seen = new Set();
    for (let i = 0; i < 64 && seen.size < 2; i++) {
      const res = await h.request({ port });
      assert.strictEqual(res.status, 200);
      assert.strictEqual(res.body, 'Hello, world!');
      assert.strictEqual(res.headers['content-type'], 'text/plain');
      const w = h.workerOf(res);
      assert.strictEqual(w.app, 'hello');
      assert.ok(w.slot === 1 || w.slot === 2, `slot ${w.slot}`);
      // The answer came from a child of the supervisor, not from the supervisor itself.
      assert.notStrictEqual(w.pid, sup.pid);
      assert.strictEqual(h.parentPid(w.pid), sup.pid);
      seen.add(w.slot);
    }
    assert.deepStrictEqual([...seen].sort(), [1, 2]);
    const { code } = await sup.stop();
    assert.strictEqual(code, 0);
  });
}

test('1,000 sequential connections are all answered (C++ and Node workers)', async (t) => {
  for (const command of [[h.HELLO_CPP], [h.NODE, h.HELLO_NODE]]) {
    const port = await h.freePort();
    const sup = await h.startSupervisor(h.config({ port, command, workers: 2 }), { ready: 2 });
    t.after(() => sup.stop());
    let ok = 0;
    for (let i = 0; i < 1000; i++) {
      const res = await h.request({ port });
      if (res.status === 200 && res.body === 'Hello, world!') ok++;
    }
    assert.strictEqual(ok, 1000, `${command.join(' ')}`);
    await sup.stop();
  }
});

test('keep-alive: several requests on one handed-over connection', async (t) => {
  const port = await h.freePort();
  const sup = await h.startSupervisor(h.config({ port, command: [h.HELLO_CPP], workers: 2 }), { ready: 2 });
  t.after(() => sup.stop());
  const agent = new (require('node:http').Agent)({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const http = require('node:http');
  const pids = new Set();
  const ports = new Set();
  for (let i = 0; i < 5; i++) {
    const res = await new Promise((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/', agent }, (r) => {
          ports.add(r.socket.localPort);
          let body = '';
          r.on('data', (d) => (body += d));
          r.on('end', () => resolve({ status: r.statusCode, body, headers: r.headers }));
        })
        .on('error', reject);
    });
    assert.strictEqual(res.status, 200);
    pids.add(h.workerOf(res).pid);
  }
  assert.strictEqual(ports.size, 1, 'one connection carried every request');
  assert.strictEqual(pids.size, 1, 'one worker served it');
});
