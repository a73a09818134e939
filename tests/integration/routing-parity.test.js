'use strict';
// The same clients reach the same slots on Linux and on Windows: real connections from the
// loopback addresses of tests/fixtures/routing-parity.txt (the fixture the unit tests
// check too) must be served by the slot listed there. On Linux these SDK workers take
// kernel dispatch by default (ip_hash's BPF program chooses); on Windows the master does:
// kernel-ip-hash.test.js checks both intakes on Linux, and a scale.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./helpers');

const WORKERS = 4;
const fixture = fs
  .readFileSync(path.join(h.ROOT, 'tests/fixtures/routing-parity.txt'), 'utf8')
  .split('\n')
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => l.split(' '))
  .filter(([policy, address, workers]) => policy === 'ip_hash' && address.startsWith('127.') && Number(workers) === WORKERS)
  .map(([, address, , slot]) => ({ address, slot: Number(slot) }));

test('ip_hash: every loopback client of the parity fixture reaches its listed slot', async (t) => {
  assert.ok(fixture.length >= 20, 'the fixture lists loopback clients for 4 workers');
  const port = await h.freePort();
  const sup = await h.startSupervisor(h.config({ port, command: [h.HELLO_CPP], workers: WORKERS, policy: 'ip_hash' }), {
    ready: WORKERS,
  });
  t.after(() => sup.stop());
  for (const { address, slot } of fixture) {
    const res = await h.request({ port, localAddress: address });
    assert.strictEqual(res.status, 200);
    assert.strictEqual(h.workerOf(res).slot, slot, `client ${address}`);
  }
});
