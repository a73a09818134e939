'use strict';
// ip_hash under kernel dispatch (Linux): the master attaches a classic BPF program to the
// listener's SO_REUSEPORT group that picks a slot's socket by the client's source address
// (core/routing/source_hash_program.h). Real connections from the loopback addresses of
// tests/fixtures/routing-parity.txt must reach the slot listed there, with the master
// handing off none; after `supervisor scale` N → N+1 the slot listed for N+1; and under
// `dispatch: master` the same slots. IPv6 sources other than ::1 are not practical on a
// test machine's loopback: the program's IPv6 and IPv4-mapped paths are proved in the
// unit test's interpreter (test_source_hash_program.cpp).
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./helpers');

const fixture = fs
  .readFileSync(path.join(h.ROOT, 'tests/fixtures/routing-parity.txt'), 'utf8')
  .split('\n')
  .filter((l) => l && !l.startsWith('#'))
  .map((l) => l.split(' '))
  .filter(([policy, address]) => policy === 'ip_hash' && address.startsWith('127.'))
  .map(([, address, workers, slot]) => ({ address, workers: Number(workers), slot: Number(slot) }));

function linesFor(workers) {
  const lines = fixture.filter((f) => f.workers === workers);
  assert.ok(lines.length >= 20, `the fixture lists loopback clients for ${workers} workers`);
  return lines;
}

async function handedOff(sup) {
  const r = await h.cli(sup, ['status', '--json']);
  assert.strictEqual(r.code, 0, r.stderr);
  return JSON.parse(r.stdout).slots.filter((s) => s.app === 'hello').reduce((n, s) => n + s.handed_off, 0);
}

// Every loopback client of the fixture for `workers`, one connection each, a few at a
// time: each must be answered by its listed slot.
async function checkSlots(port, workers) {
  const lines = linesFor(workers);
  for (let i = 0; i < lines.length; i += 8) {
    await Promise.all(
      lines.slice(i, i + 8).map(async ({ address, slot }) => {
        const res = await h.request({ port, localAddress: address });
        assert.strictEqual(res.status, 200);
        assert.strictEqual(h.workerOf(res).slot, slot, `client ${address} among ${workers}`);
      }),
    );
  }
  return lines.length;
}

async function start(t, { workers, dispatch }) {
  const port = await h.freePort();
  const sup = await h.startSupervisor(
    h.config({ port, command: [h.HELLO_CPP], workers, policy: 'ip_hash', extra: `    dispatch: ${dispatch}\n` }),
    { ready: workers },
  );
  t.after(() => sup.stop());
  return { port, sup };
}

test('ip_hash, dispatch kernel: the program sends each fixture client to its slot, also after a scale up', async (t) => {
  const { port, sup } = await start(t, { workers: 3, dispatch: 'kernel' });
  await sup.log.waitFor(/event=source_hash app=hello slots=3\b/);
  for (let slot = 1; slot <= 3; slot++)
    await sup.log.waitFor(new RegExp(`event=kernel_queue_given app=hello slot=${slot} `));
  assert.match(sup.log.lines.join('\n'), /event=listening listener=\S+ address=\S+ dispatch=kernel/);
  const checked = await checkSlots(port, 3);
  assert.strictEqual(await handedOff(sup), 0, 'the kernel chose, not the master');

  const r = await h.cli(sup, ['scale', 'hello', '4']);
  assert.strictEqual(r.code, 0, r.stderr + r.stdout);
  await sup.log.waitFor(/event=source_hash app=hello slots=4\b/);
  await sup.log.waitFor(/event=kernel_queue_given app=hello slot=4 /);
  await checkSlots(port, 4);
  assert.strictEqual(await handedOff(sup), 0);
  assert.ok(checked >= 20);
  assert.doesNotMatch(sup.log.lines.join('\n'), /event=source_hash_failed/);
});

test('ip_hash, dispatch master: the same fixture clients reach the same slots', async (t) => {
  const { port, sup } = await start(t, { workers: 4, dispatch: 'master' });
  const checked = await checkSlots(port, 4);
  assert.ok((await handedOff(sup)) >= checked, 'the master handed every connection over');
});
