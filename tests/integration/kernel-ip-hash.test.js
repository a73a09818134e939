'use strict';
// ip_hash under kernel dispatch (Linux): the master attaches a classic BPF program to the
// listener's SO_REUSEPORT group that picks a slot's socket by the client's source address
// (core/routing/source_hash_program.h). Real connections from the loopback addresses of
// tests/fixtures/routing-parity.txt must reach the slot listed there, with the master
// handing off none; after `supervisor scale` N → N+1 the slot listed for N+1; and under
// `dispatch: master` the same slots. IPv6 sources other than ::1 are not practical on a
// test machine's loopback: the program's IPv6 paths beyond ::1 are proved in the unit
// test's interpreter (test_source_hash_program.cpp). A dual-stack '::' listener checks the
// IPv4-mapped case for real: the master sees ::ffff:127.x.y.z, the program an IPv4 packet.
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
  .filter(([policy, address]) => policy === 'ip_hash' && (address.startsWith('127.') || address === '::1'))
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
async function checkSlots(port, workers, { ipv6 = false } = {}) {
  const lines = linesFor(workers).filter((f) => ipv6 || f.address !== '::1');
  for (let i = 0; i < lines.length; i += 8) {
    await Promise.all(
      lines.slice(i, i + 8).map(async ({ address, slot }) => {
        const v6 = address.includes(':');
        const res = await h.request({ port, host: v6 ? '::1' : '127.0.0.1', localAddress: address });
        assert.strictEqual(res.status, 200);
        assert.strictEqual(h.workerOf(res).slot, slot, `client ${address} among ${workers}`);
      }),
    );
  }
  return lines.length;
}

async function start(t, { workers, dispatch, dualStack = false }) {
  const port = await h.freePort();
  let yaml = h.config({ port, command: [h.HELLO_CPP], workers, policy: 'ip_hash', extra: `    dispatch: ${dispatch}\n` });
  if (dualStack) yaml = yaml.replace(`- address: 127.0.0.1:${port}`, `- address: "[::]:${port}"`);
  const sup = await h.startSupervisor(yaml, { ready: workers });
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

// A '::' socket takes IPv4 clients only where net.ipv6.bindv6only is 0 (the default).
const v6only = (() => {
  try {
    return fs.readFileSync('/proc/sys/net/ipv6/bindv6only', 'utf8').trim() !== '0';
  } catch {
    return true;
  }
})();

for (const dispatch of ['kernel', 'master']) {
  test(`ip_hash, dispatch ${dispatch}, a dual-stack '::' listener: IPv4 clients (IPv4-mapped to the master) and ::1 reach their slots`, { skip: v6only && 'net.ipv6.bindv6only is set: a "::" socket takes no IPv4 client' }, async (t) => {
    const { port, sup } = await start(t, { workers: 5, dispatch, dualStack: true });
    if (dispatch === 'kernel') await sup.log.waitFor(/event=source_hash app=hello slots=5\b/);
    for (let slot = 1; slot <= 5 && dispatch === 'kernel'; slot++)
      await sup.log.waitFor(new RegExp(`event=kernel_queue_given app=hello slot=${slot} `));
    const checked = await checkSlots(port, 5, { ipv6: true });
    const handed = await handedOff(sup);
    if (dispatch === 'kernel') assert.strictEqual(handed, 0, 'the kernel chose, not the master');
    else assert.ok(handed >= checked, 'the master handed every connection over');
  });
}

// A scale down leaves the removed slots' sockets in the group while their workers drain;
// a scale up meanwhile adds the new slots' sockets past them, and each close then moves
// the group's last socket into the closed one's place. The program follows each slot's
// place (App::group_), so the fixture's clients still reach their slots, by the kernel.
test('ip_hash, dispatch kernel: scale 4 → 2 → 4 while the removed slots drain, then they close: every client in its slot', async (t) => {
  const { port, sup } = await start(t, { workers: 4, dispatch: 'kernel' });
  for (let slot = 1; slot <= 4; slot++)
    await sup.log.waitFor(new RegExp(`event=kernel_queue_given app=hello slot=${slot} `));
  // Slots 3 and 4 each serve a slow request, so their workers drain for a while; slot 3's
  // ends first, so its socket closes first, and the kernel moves the new slot 4's socket
  // into its place: the order the program must follow (closing 4 then 3 would restore
  // the slot order by chance).
  const lines = linesFor(4);
  const slow = [];
  const status = JSON.parse((await h.cli(sup, ['status', '--json'])).stdout);
  for (const [slot, ms] of [[4, 6000], [3, 3000]]) {
    const { address } = lines.find((f) => f.slot === slot);
    const { pid } = status.slots.find((s) => s.app === 'hello' && s.slot === slot);
    // Its only TCP connection (no other client has reached it): accepted, not queued.
    slow.push(h.request({ port, localAddress: address, path: `/slow?ms=${ms}` }));
    const held = await h.eventually(() => ({ ok: h.tcpConnections(pid) >= 1 }));
    assert.ok(held.ok, `slot ${slot}'s worker holds the slow request`);
  }
  const before = sup.log.mark();
  // `scale` answers when the scale is over, here when the drains end: the scale up comes
  // as soon as the program for 2 is attached, and ends the first scale's wait.
  const down = h.cli(sup, ['scale', 'hello', '2']);
  await sup.log.waitFor(/event=source_hash app=hello slots=2\b/, { from: before });
  const up = sup.log.mark();
  const r = await h.cli(sup, ['scale', 'hello', '4']);
  assert.strictEqual(r.code, 0, r.stderr + r.stdout);
  await down;
  await sup.log.waitFor(/event=source_hash app=hello slots=4\b/, { from: up });
  const closedEarly = sup.log.lines.slice(before).filter((l) => / event=kernel_queue_closed /.test(l));
  assert.deepStrictEqual(closedEarly, [], 'the removed sockets were still in the group at the scale up');
  for (const res of await Promise.all(slow)) assert.strictEqual(res.status, 200);
  const [three, four] = [3, 4].map((slot) => sup.log.waitFor(new RegExp(`event=kernel_queue_closed app=hello slot=${slot} `), { from: up }));
  await Promise.all([three, four]);
  const closed = sup.log.mark();
  const closes = sup.log.lines.slice(up).filter((l) => / event=kernel_queue_closed /.test(l));
  assert.match(closes[0], /slot=3 /, `slot 3's old socket closed first: ${closes.join(' | ')}`);
  for (let slot = 3; slot <= 4; slot++)
    await sup.log.waitFor(new RegExp(`event=kernel_queue_given app=hello slot=${slot} `), { from: up });
  // The last close re-attached the program with the places the closes left.
  assert.match(sup.log.lines.slice(up, closed).filter((l) => / event=source_hash /.test(l)).at(-1), /slots=4\b/);
  const handed = await handedOff(sup);
  await checkSlots(port, 4);
  assert.strictEqual(await handedOff(sup), handed, 'the kernel chose, not the master');
});

// A reload that changes the rule in place: round_robin → ip_hash attaches the program,
// ip_hash → round_robin takes it off (the kernel's 4-tuple spread again).
test('ip_hash, dispatch kernel: a reload from round_robin attaches the program, one back to round_robin detaches it', async (t) => {
  const port = await h.freePort();
  const yaml = (policy) =>
    h.config({ port, command: [h.HELLO_CPP], workers: 4, policy, extra: '    dispatch: kernel\n' });
  const sup = await h.startSupervisor(yaml('round_robin'), { ready: 4 });
  t.after(() => sup.stop());
  for (let slot = 1; slot <= 4; slot++)
    await sup.log.waitFor(new RegExp(`event=kernel_queue_given app=hello slot=${slot} `));
  assert.doesNotMatch(sup.log.lines.join('\n'), /event=source_hash /);

  let mark = sup.log.mark();
  fs.writeFileSync(sup.file, yaml('ip_hash'));
  let r = await h.cli(sup, ['reload', '--config-only']);
  assert.strictEqual(r.code, 0, r.stderr + r.stdout);
  await sup.log.waitFor(/event=source_hash app=hello slots=4\b/, { from: mark });
  await checkSlots(port, 4);
  assert.strictEqual(await handedOff(sup), 0);

  mark = sup.log.mark();
  fs.writeFileSync(sup.file, yaml('round_robin'));
  r = await h.cli(sup, ['reload', '--config-only']);
  assert.strictEqual(r.code, 0, r.stderr + r.stdout);
  await sup.log.waitFor(/event=source_hash_detached app=hello\b/, { from: mark });
  // One client address, 40 connections: the 4-tuple (its source port) spreads them.
  const slots = new Set();
  for (let i = 0; i < 40; i += 8) {
    const answers = await Promise.all(Array.from({ length: 8 }, () => h.request({ port, localAddress: '127.0.0.2' })));
    for (const a of answers) slots.add(h.workerOf(a).slot);
  }
  assert.ok(slots.size > 1, `one address reached several slots: ${[...slots]}`);
});
