'use strict';
// Kernel dispatch (Linux): each slot has a listening socket of its own in its listener's
// SO_REUSEPORT group, which the master creates, keeps, and gives to the slot's worker; the
// worker accepts from it itself. The master hands off nothing (its dispatched counter
// stays 0), a slot's queue outlives its worker (SIGKILL: nothing reset), a rolling reload
// loses no request, and a scale-down drains the removed slot's queue through the master.
// Shutdown under kernel dispatch: lifecycle.test.js.
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const h = require('./helpers');

const PLAIN_KERNEL = path.join(__dirname, 'fixtures/plain-kernel.js');

function status(sup) {
  return h.cli(sup, ['status', '--json']).then((r) => {
    assert.strictEqual(r.code, 0, r.stderr);
    return JSON.parse(r.stdout);
  });
}

// The connections the master handed to the app's workers (its /metrics' dispatched counter).
async function handedOff(sup) {
  return (await status(sup)).slots.filter((s) => s.app === 'hello').reduce((n, s) => n + s.handed_off, 0);
}

async function start(t, { command, workers = 2, policy = 'round_robin', extra = '' }) {
  const port = await h.freePort();
  const sup = await h.startSupervisor(h.config({ port, command, workers, policy, extra }), { ready: workers });
  t.after(() => sup.stop());
  for (let slot = 1; slot <= workers; slot++)
    await sup.log.waitFor(new RegExp(`event=kernel_queue_given app=hello slot=${slot} `));
  return { port, sup };
}

// `n` requests, one connection each, a few at a time: the workers (slot/pid) that answered.
async function spread(port, n) {
  const seen = new Map();
  for (let i = 0; i < n; i += 8) {
    const answers = await Promise.all(Array.from({ length: Math.min(8, n - i) }, () => h.request({ port })));
    for (const a of answers) {
      assert.strictEqual(a.status, 200);
      const w = h.workerOf(a);
      seen.set(`${w.slot}/${w.pid}`, (seen.get(`${w.slot}/${w.pid}`) ?? 0) + 1);
    }
  }
  return seen;
}

for (const [name, command] of [
  ['C++ SDK', () => [h.HELLO_CPP]],
  ['Node SDK', () => [h.NODE, h.HELLO_NODE]],
]) {
  test(`round_robin, ${name}: the kernel spreads connections over both slots, the master hands off none`, async (t) => {
    const { port, sup } = await start(t, { command: command() });
    assert.match(sup.log.lines.join('\n'), /event=listening listener=\S+ address=\S+ dispatch=kernel/);
    const seen = await spread(port, 200);
    const slots = new Set([...seen.keys()].map((k) => k.split('/')[0]));
    assert.deepStrictEqual([...slots].sort(), ['1', '2'], `both slots answered: ${JSON.stringify([...seen])}`);
    assert.strictEqual(await handedOff(sup), 0);
  });
}

test('a plain worker keeps master dispatch by default, and accepts itself when it opts in', async (t) => {
  const port = await h.freePort();
  const sup = await h.startSupervisor(
    h.config({ port, command: [h.NODE, h.PLAIN_NODE], extra: '    ready: on_spawn\n' }),
    { ready: 2 },
  );
  t.after(() => sup.stop());
  await spread(port, 16);
  assert.ok((await handedOff(sup)) >= 16, 'the master handed every connection over');

  const kernel = await start(t, { command: [h.NODE, PLAIN_KERNEL], extra: '    ready: on_spawn\n    dispatch: kernel\n' });
  const seen = await spread(kernel.port, 200);
  assert.deepStrictEqual([...new Set([...seen.keys()].map((k) => k.split('/')[0]))].sort(), ['1', '2']);
  assert.strictEqual(await handedOff(kernel.sup), 0);
});

test('SIGKILL under connection-per-request load: only what the worker had accepted fails; what its slot\'s queue held is served', async (t) => {
  const { port, sup } = await start(t, { command: [h.HELLO_CPP], extra: '    restart: {min_delay: 500ms}\n' });
  const run = h.load({ port, concurrency: 16 });
  await h.loadProgress(run, 300);
  const pid1 = Number(
    [...run.results.byWorker.keys()].find((w) => w.split('/')[1] === '1').split('/')[2],
  );
  // Stopped first, so that what it holds cannot change before the kill: the connections it
  // accepted (its descriptors), not those waiting in its slot's queue (the master's socket).
  process.kill(pid1, 'SIGSTOP');
  const held = h.tcpConnections(pid1);
  const failedBefore = run.results.failed;
  const from = sup.log.mark();
  process.kill(pid1, 'SIGKILL');
  await sup.log.waitFor(new RegExp(`event=exit app=hello slot=1 pid=${pid1} `), { from });
  const [, pid2] = await sup.log.waitFor(/event=ready app=hello slot=1 pid=(\d+) /, { from });
  // What the kernel put in slot 1's queue meanwhile went to slot 2 through the master
  // (round_robin does not wait for a slot); then the replacement accepts from it again.
  await h.eventually(async () => ({ ok: (run.results.byWorker.get(`hello/1/${pid2}`) ?? 0) >= 50 }));
  const results = await run.stop();
  const failed = results.failed - failedBefore;
  t.diagnostic(`the killed worker held ${held} connections; ${failed} requests failed; its replacement answered ${results.byWorker.get(`hello/1/${pid2}`) ?? 0}`);
  assert.ok(failed <= held, `failed ${failed} > held ${held}: ${results.errors.slice(failedBefore, failedBefore + 10)}`);
  assert.ok((results.byWorker.get(`hello/1/${pid2}`) ?? 0) >= 50, 'the replacement serves slot 1');
});

// A worker of slot 1 killed, with its restart `delay` away: what on_unavailable does with
// the connections the kernel sends to slot 1's socket meanwhile.
async function slotDown(t, extra) {
  const { port, sup } = await start(t, { command: [h.HELLO_CPP], extra: `    restart: {min_delay: 3s}\n${extra}` });
  const before = await spread(port, 40);
  const pid1 = Number([...before.keys()].find((k) => k.startsWith('1/')).split('/')[1]);
  const from = sup.log.mark();
  process.kill(pid1, 'SIGKILL');
  await sup.log.waitFor(new RegExp(`event=exit app=hello slot=1 pid=${pid1} `), { from });
  return { port, sup, pid1, from };
}

// Each connection's answer (status, slot, when) for `n` at once.
async function burst(port, n) {
  const started = performance.now();
  return Promise.all(
    Array.from({ length: n }, () =>
      h.request({ port }).then((a) => ({ status: a.status, slot: a.status === 200 ? h.workerOf(a).slot : null, ms: performance.now() - started })),
    ),
  );
}

test('round_robin: while slot 1 is down the master takes its queue and slot 2 serves everything at once', async (t) => {
  const { port, sup, from } = await slotDown(t, '');
  await sup.log.waitFor(/event=kernel_queue_taken_over app=hello slot=1 reason=no_affinity/, { from });
  const answers = await burst(port, 40);
  const ready = sup.log.lines.slice(from).some((l) => /event=ready app=hello slot=1 /.test(l));
  assert.ok(!ready, 'slot 1 was still down');
  assert.deepStrictEqual([...new Set(answers.map((a) => `${a.status} ${a.slot}`))], ['200 2'], JSON.stringify(answers));
  assert.ok((await handedOff(sup)) > 0, 'the master handed slot 1\'s connections to slot 2');
  await sup.log.waitFor(/event=ready app=hello slot=1 /, { from });
  await sup.log.waitFor(/event=kernel_queue_returned app=hello slot=1/, { from });
  const after = await spread(port, 64);
  assert.ok([...after.keys()].some((k) => k.startsWith('1/')), 'slot 1 accepts again');
});

// ip_hash (the kernel's program): a client of slot 1 and one of slot 2, then slot 1's
// worker killed, its restart 3 s away (2 s with `queue` alone).
async function ipHashSlotDown(t, extra, delay = '3s') {
  const { port, sup } = await start(t, {
    command: [h.HELLO_CPP],
    policy: 'ip_hash',
    extra: `    restart: {min_delay: ${delay}}\n${extra}`,
  });
  const one = await h.addressForSlot(port, 1);
  const two = await h.addressForSlot(port, 2);
  const from = sup.log.mark();
  process.kill(one.pid, 'SIGKILL');
  await sup.log.waitFor(new RegExp(`event=exit app=hello slot=1 pid=${one.pid} `), { from });
  const slotOneBack = () => sup.log.lines.slice(from).some((l) => /event=ready app=hello slot=1 /.test(l));
  return { port, sup, one, two, from, slotOneBack };
}

test('ip_hash, on_unavailable queue: a client of a down slot waits in its kernel queue and the replacement serves it', async (t) => {
  const { port, sup, one, two, from } = await ipHashSlotDown(t, '', '1s');
  const [a1, a2] = await Promise.all([
    h.request({ port, localAddress: one.localAddress }),
    h.request({ port, localAddress: two.localAddress }),
  ]);
  const w1 = h.workerOf(a1);
  assert.strictEqual(a1.status, 200);
  assert.strictEqual(w1.slot, 1);
  assert.notStrictEqual(w1.pid, one.pid, 'served by the replacement');
  assert.deepStrictEqual([a2.status, h.workerOf(a2).slot], [200, 2]);
  assert.ok(!sup.log.lines.slice(from).some((l) => /event=kernel_queue_taken_over/.test(l)), 'the master took nothing');
  assert.strictEqual(await handedOff(sup), 0);
});

test('ip_hash, on_unavailable rehash: the program sends a down slot\'s new clients to the next ready slot, the master takes only its queue', async (t) => {
  const { port, sup, one, from, slotOneBack } = await ipHashSlotDown(t, '    on_unavailable: rehash\n');
  await sup.log.waitFor(/event=kernel_queue_taken_over app=hello slot=1 reason=rehash/, { from });
  await sup.log.waitFor(/event=source_hash app=hello slots=2 key=address rerouted=1/, { from });
  const handed = await handedOff(sup);
  const a = await h.request({ port, localAddress: one.localAddress });
  assert.deepStrictEqual([a.status, h.workerOf(a).slot], [200, 2]);
  assert.ok(!slotOneBack(), 'slot 1 was still down');
  assert.strictEqual(await handedOff(sup), handed, 'the kernel sent it to slot 2: the master handed nothing over');
  await sup.log.waitFor(/event=kernel_queue_returned app=hello slot=1/, { from });
  await sup.log.waitFor(/event=source_hash app=hello slots=2 key=address rerouted=0/, { from });
  const b = await h.request({ port, localAddress: one.localAddress });
  assert.strictEqual(h.workerOf(b).slot, 1, 'back to its slot');
});

test('ip_hash, on_unavailable reject: a down slot\'s clients get 503 at once', async (t) => {
  const { port, sup, one, two, from, slotOneBack } = await ipHashSlotDown(t, '    on_unavailable: reject\n');
  await sup.log.waitFor(/event=kernel_queue_taken_over app=hello slot=1 reason=reject/, { from });
  const a1 = await h.request({ port, localAddress: one.localAddress });
  const a2 = await h.request({ port, localAddress: two.localAddress });
  assert.strictEqual(a1.status, 503);
  assert.deepStrictEqual([a2.status, h.workerOf(a2).slot], [200, 2]);
  assert.ok(!slotOneBack(), 'slot 1 was still down');
});

test('ip_hash, queue.timeout: what waited that long in a down slot\'s kernel queue gets 503 from the master', async (t) => {
  const { port, sup, one, from, slotOneBack } = await ipHashSlotDown(t, '    queue: {timeout: 1s}\n');
  const started = performance.now();
  const a = await h.request({ port, localAddress: one.localAddress });
  const waited = performance.now() - started;
  assert.strictEqual(a.status, 503);
  // About queue.timeout after it arrived (the kernel's clock ticks in jiffies), and before
  // the replacement (3 s after the exit) was there.
  assert.ok(waited >= 900, `503 after ${waited.toFixed(0)} ms`);
  assert.ok(!slotOneBack(), 'the 503 came before slot 1 was back');
  const log = sup.log.lines.slice(from).join('\n');
  assert.match(log, /event=kernel_queue_taken_over app=hello slot=1 reason=queue_timeout/);
  assert.match(log, /event=queue_timeout app=hello slot=1/);
  await sup.log.waitFor(/event=kernel_queue_returned app=hello slot=1/, { from });
  const b = await h.request({ port, localAddress: one.localAddress });
  assert.strictEqual(h.workerOf(b).slot, 1, 'its replacement serves it');
});

for (const [name, command] of [
  ['C++ SDK', () => [h.HELLO_CPP]],
  ['Node SDK', () => [h.NODE, h.HELLO_NODE]],
]) {
  test(`rolling reload, ${name}, connection-per-request load: no request fails`, async (t) => {
    const { port, sup } = await start(t, { command: command() });
    const run = h.load({ port, concurrency: 8 });
    await h.loadProgress(run, 200);
    const reload = await h.cli(sup, ['reload']);
    assert.strictEqual(reload.code, 0, reload.stderr + reload.stdout);
    await h.loadProgress(run, 200);
    const results = await run.stop();
    assert.strictEqual(results.failed, 0, `failed: ${results.errors.slice(0, 10)}`);
    const pids = new Set([...results.byWorker.keys()].map((w) => w.split('/')[2]));
    assert.ok(pids.size >= 4, `old and new workers answered: ${[...pids]}`);
    assert.strictEqual(await handedOff(sup), 0);
  });
}

test('scale up and down: a new slot joins the group, a removed slot drains through the master', async (t) => {
  const { port, sup } = await start(t, { command: [h.HELLO_CPP] });
  const run = h.load({ port, concurrency: 8 });
  await h.loadProgress(run, 100);
  let r = await h.cli(sup, ['scale', 'hello', '3']);
  assert.strictEqual(r.code, 0, r.stderr + r.stdout);
  await sup.log.waitFor(/event=kernel_queue_given app=hello slot=3 /);
  await h.eventually(async () => ({ ok: [...run.results.byWorker.keys()].some((w) => w.split('/')[1] === '3') }));
  assert.ok([...run.results.byWorker.keys()].some((w) => w.split('/')[1] === '3'), 'slot 3 answers');
  r = await h.cli(sup, ['scale', 'hello', '1']);
  assert.strictEqual(r.code, 0, r.stderr + r.stdout);
  // While the removed sockets drain, a program keeps new connections off them (one closing
  // would reset a handshake under way); gone once they are closed.
  await sup.log.waitFor(/event=source_hash app=hello slots=1 key=port/);
  await sup.log.waitFor(/event=kernel_queue_closed app=hello slot=3 /);
  await sup.log.waitFor(/event=kernel_queue_closed app=hello slot=2 /);
  await sup.log.waitFor(/event=source_hash_detached app=hello/);
  await h.loadProgress(run, 200);
  const results = await run.stop();
  assert.strictEqual(results.failed, 0, `failed: ${results.errors.slice(0, 10)}`);
  const after = await spread(port, 40);
  assert.deepStrictEqual([...new Set([...after.keys()].map((k) => k.split('/')[0]))], ['1']);
  // The sockets added and removed were the master's all along: no stranger in the group
  // (kernel-observe.test.js has one).
  assert.deepStrictEqual(sup.log.lines.filter((l) => /event=kernel_group_stranger/.test(l)), []);
});
