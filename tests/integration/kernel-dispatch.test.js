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

async function start(t, { command, workers = 2, extra = '' }) {
  const port = await h.freePort();
  const sup = await h.startSupervisor(h.config({ port, command, workers, extra }), { ready: workers });
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

test('a worker killed: connections made while it is down wait in its slot queue for the replacement', async (t) => {
  const { port, sup } = await start(t, {
    command: [h.HELLO_CPP],
    extra: '    restart: {min_delay: 1s}\n',  // long enough for connections to wait
  });
  const before = await spread(port, 40);
  const pid1 = Number([...before.keys()].find((k) => k.startsWith('1/')).split('/')[1]);
  process.kill(pid1, 'SIGKILL');
  await sup.log.waitFor(new RegExp(`event=exit app=hello slot=1 pid=${pid1} `));
  // Made while slot 1 has no worker: about half hash to its socket and wait there.
  const answers = await Promise.all(Array.from({ length: 40 }, () => h.request({ port })));
  const workers = answers.map((a) => {
    assert.strictEqual(a.status, 200);
    return h.workerOf(a);
  });
  const replaced = workers.filter((w) => w.slot === 1);
  assert.ok(replaced.length > 0, 'some connections waited for slot 1');
  for (const w of replaced) assert.notStrictEqual(w.pid, pid1, 'served by the replacement');
  assert.strictEqual(await handedOff(sup), 0);
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
  await sup.log.waitFor(/event=kernel_queue_closed app=hello slot=3 /);
  await sup.log.waitFor(/event=kernel_queue_closed app=hello slot=2 /);
  await h.loadProgress(run, 200);
  const results = await run.stop();
  assert.strictEqual(results.failed, 0, `failed: ${results.errors.slice(0, 10)}`);
  const after = await spread(port, 40);
  assert.deepStrictEqual([...new Set([...after.keys()].map((k) => k.split('/')[0]))], ['1']);
  // The sockets added and removed were the master's all along: no stranger in the group
  // (kernel-observe.test.js has one).
  assert.deepStrictEqual(sup.log.lines.filter((l) => /event=kernel_group_stranger/.test(l)), []);
});
