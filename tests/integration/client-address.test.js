'use strict';
// The client's address in the workers: behind a load balancer that speaks the PROXY
// protocol, the master's `conn` carries the header's source, and the SDKs show it as the
// request's peer: Node's req.socket.remoteAddress / remotePort / remoteFamily (and so
// Express's req.ip), the C++ SDK's Request::remote_address / remote_port. It stays the
// client's when the connection is handed back and over to another slot. The Node workers
// run on the Node that runs this file.
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const h = require('./helpers');
const { RawClient } = require('../node/helpers');

const EXPRESS = path.join(h.ROOT, 'tests', 'apps', 'express-worker.js');
// Each app's /ip answer as { address, port, family } (family: Node only).
const APPS = [
  { name: 'Express 4', command: [h.NODE, EXPRESS, 'express'], parse: express },
  { name: 'Express 5', command: [h.NODE, EXPRESS, 'express5'], parse: express },
  { name: 'Fastify', command: [h.NODE, path.join(h.ROOT, 'tests', 'apps', 'fastify-worker.js')], parse: express },
  { name: 'C++ SDK (hello-cpp)', command: [h.HELLO_CPP], parse: cpp },
];

// Express and Fastify: req.ip is the socket's remoteAddress (no trust proxy).
function express(body) {
  const seen = JSON.parse(body);
  assert.strictEqual(seen.ip, seen.remoteAddress, body);
  return { address: seen.remoteAddress, port: seen.remotePort, family: seen.remoteFamily };
}

function cpp(body) {
  const [address, port] = body.split(' ');
  return { address, port: Number(port) };
}

function cluster({ port, command, listener = '' }) {
  return `listeners:
  - address: 127.0.0.1:${port}
${listener}apps:
  - name: hello
    command: ${JSON.stringify(command)}
    workers: 2
    policy: {url_segment: {index: 1, direct: true}}
`;
}

async function start(t, yaml) {
  const sup = await h.startSupervisor(yaml, { ready: 2 });
  t.after(() => sup.stop());
  return sup;
}

// One keep-alive connection (opened with `preface`, a PROXY header, if any) asking /N/ip
// of the slots in `order`: who answered, and what each said.
async function askSlots(t, port, order, preface = '') {
  const client = await RawClient.connect(port);
  t.after(() => client.close());
  if (preface) client.write(preface);
  const answers = [];
  for (const slot of order) {
    client.write(`GET /${slot}/ip HTTP/1.1\r\nHost: x\r\n\r\n`);
    const res = await client.response(h.TIMEOUT);
    assert.strictEqual(res.status, 200, res.body.toString());
    answers.push({ slot: h.workerOf(res).slot, body: res.body.toString() });
  }
  return { answers, localPort: client.socket.localPort };
}

for (const app of APPS) {
  test(`${app.name}: behind a PROXY v1 header, every request on the connection sees the header's source, on each slot`, async (t) => {
    const port = await h.freePort();
    await start(t, cluster({ port, command: app.command, listener: '    proxy_protocol: true\n' }));
    for (const [preface, address, clientPort, family] of [
      ['PROXY TCP4 203.0.113.7 127.0.0.1 41234 80\r\n', '203.0.113.7', 41234, 'IPv4'],
      ['PROXY TCP6 2001:db8::7 ::1 41235 443\r\n', '2001:db8::7', 41235, 'IPv6'],
    ]) {
      const order = [1, 2, 2, 1, 2]; // handed back and over again in between
      const { answers } = await askSlots(t, port, order, preface);
      for (const [i, { slot, body }] of answers.entries()) {
        assert.strictEqual(slot, order[i]);
        const seen = app.parse(body);
        assert.strictEqual(seen.address, address, body);
        assert.strictEqual(seen.port, clientPort, body);
        if (seen.family !== undefined) assert.strictEqual(seen.family, family, body);
      }
    }
  });

  test(`${app.name}: without the PROXY protocol, requests see the connection's own peer`, async (t) => {
    const port = await h.freePort();
    await start(t, cluster({ port, command: app.command }));
    const { answers, localPort } = await askSlots(t, port, [1, 2, 1]);
    for (const { body } of answers) {
      const seen = app.parse(body);
      assert.strictEqual(seen.address, '127.0.0.1', body);
      assert.strictEqual(seen.port, localPort, body);
      if (seen.family !== undefined) assert.strictEqual(seen.family, 'IPv4', body);
    }
  });
}
