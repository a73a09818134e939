'use strict';
// round_robin deals connections out evenly; ip_hash keeps each client address on one slot.
// Under kernel dispatch (the default for SDK workers with round_robin) the kernel spreads
// by a hash of each connection's addresses and ports, not in strict turns:
// kernel-dispatch.test.js covers it; the strict turns are the master's.
const test = require('node:test');
const assert = require('node:assert');
const h = require('./helpers');

test('round_robin, master dispatch: 100 connections over 4 workers give each 25 ± 2', async (t) => {
  const port = await h.freePort();
  const sup = await h.startSupervisor(
    h.config({ port, command: [h.HELLO_CPP], workers: 4, extra: '    dispatch: master\n' }),
    { ready: 4 },
  );
  t.after(() => sup.stop());
  const counts = new Map();
  for (let i = 0; i < 100; i++) {
    const res = await h.request({ port });
    assert.strictEqual(res.status, 200);
    const { slot } = h.workerOf(res);
    counts.set(slot, (counts.get(slot) || 0) + 1);
  }
  assert.deepStrictEqual([...counts.keys()].sort(), [1, 2, 3, 4]);
  for (const [slot, n] of counts) assert.ok(Math.abs(n - 25) <= 2, `slot ${slot} got ${n}`);
});

test('ip_hash: one source address always reaches one slot; 64 addresses reach all 4', async (t) => {
  const port = await h.freePort();
  const sup = await h.startSupervisor(h.config({ port, command: [h.HELLO_CPP], workers: 4, policy: 'ip_hash' }), {
    ready: 4,
  });
  t.after(() => sup.stop());
  const slotOf = new Map();
  for (let host = 2; host <= 65; host++) {
    const localAddress = `127.0.0.${host}`;
    for (let i = 0; i < 4; i++) {
      const res = await h.request({ port, localAddress });
      assert.strictEqual(res.status, 200);
      const { slot } = h.workerOf(res);
      if (!slotOf.has(localAddress)) slotOf.set(localAddress, slot);
      assert.strictEqual(slot, slotOf.get(localAddress), `${localAddress} moved`);
    }
  }
  assert.deepStrictEqual([...new Set(slotOf.values())].sort(), [1, 2, 3, 4]);
});
