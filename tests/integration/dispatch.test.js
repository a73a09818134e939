'use strict';
// The dispatcher end to end. Connections dispatched again: when another slot comes up
// while they wait, and when a scale-down takes their slot away, an L7 rule still has
// their request head, so `on_unavailable: rehash` moves them instead of answering 404.
// least_connections: the load workers report steers new connections.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const h = require('./helpers');

const GATED = path.join(__dirname, 'fixtures/gated-worker.js');

// Slots whose workers wait for their own gate file (`open-N`) before they become ready.
async function gatedApp(t, { workers, policy }) {
  const port = await h.freePort();
  const dir = h.tempDir();
  const gate = path.join(dir, 'open-{slot}');
  const sup = await h.startSupervisor(`listeners:
  - address: 127.0.0.1:${port}
apps:
  - name: hello
    command: ${JSON.stringify([h.NODE, GATED])}
    workers: ${workers}
    policy: ${policy}
    on_unavailable: rehash
    env: {GATE: ${JSON.stringify(gate)}}
`);
  t.after(() => sup.stop());
  for (let slot = 1; slot <= workers; slot++) await sup.log.waitFor(new RegExp(`event=spawn app=hello slot=${slot} `));
  const open = (slot) => fs.writeFileSync(gate.replace('{slot}', String(slot)), '');
  return { port, sup, open };
}

function cli(sup, args) {
  const argv = h.supervisorArgv([...args, '--config', sup.file]);
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: h.TIMEOUT });
  assert.strictEqual(r.status, 0, r.stderr);
  return r.stdout;
}

// Resolves once slot `slot` of the app holds `n` waiting connections (the scoreboard).
async function waiting(sup, slot, n) {
  const seen = await h.eventually(() => {
    const s = JSON.parse(cli(sup, ['status', '--json'])).slots.find((x) => x.app === 'hello' && x.slot === slot);
    return { ok: s?.queued === n, queued: s?.queued };
  });
  assert.ok(seen.ok, `slot ${slot} holds ${n} waiting connection(s) (it held ${seen.queued})`);
}

test('rehash: a connection an L7 rule queued for a slot that is down moves when another slot comes up', async (t) => {
  const { port, sup, open } = await gatedApp(t, { workers: 2, policy: '{url_segment: {index: 1, direct: true}}' });
  const res = h.request({ port, path: '/2/room' });
  await waiting(sup, 2, 1);  // no slot ready: it waits in its own slot's queue
  open(1);
  const answer = await res;
  assert.strictEqual(answer.status, 200);
  assert.strictEqual(h.workerOf(answer).slot, 1);
});

test('rehash: a connection waiting in a slot a scale-down removes keeps its key', async (t) => {
  // With 2 slots the key `b` hashes to slot 2 (jump consistent hash), with 1 to slot 1.
  const { port, sup, open } = await gatedApp(t, { workers: 2, policy: '{url_segment: {index: 1}}' });
  const res = h.request({ port, path: '/b/room' });
  await waiting(sup, 2, 1);
  cli(sup, ['scale', 'hello', '1', '--no-wait']);
  await sup.log.waitFor(/event=scale app=hello from=2 to=1/);
  open(1);
  const answer = await res;
  assert.strictEqual(answer.status, 200);
  assert.strictEqual(h.workerOf(answer).slot, 1);
});

// A keep-alive connection that has had one answer and stays open: its socket and slot.
function holdOpen(port) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('GET /held HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n'));
    let text = '';
    socket.setEncoding('latin1');
    socket.on('error', reject);
    socket.on('data', function answered(d) {
      text += d;
      if (!text.includes('Hello, world!')) return;
      socket.off('data', answered);
      const slot = Number(text.match(/x-handoff-worker: [^/]+\/(\d+)\//i)?.[1]);
      resolve({ socket, slot });
    });
  });
}

// Resolves once the scoreboard shows slot `slot` with `n` open connections (its `stats`).
async function open(sup, slot, n) {
  const seen = await h.eventually(() => {
    const s = JSON.parse(cli(sup, ['status', '--json'])).slots.find((x) => x.app === 'hello' && x.slot === slot);
    return { ok: s?.connections === n, connections: s?.connections };
  });
  assert.ok(seen.ok, `slot ${slot} reports ${n} open connection(s) (it reported ${seen.connections})`);
}

test('least_connections: new connections go to the slot whose worker holds fewer open', async (t) => {
  const port = await h.freePort();
  const sup = await h.startSupervisor(
    h.config({ port, command: [h.NODE, h.HELLO_NODE], workers: 1, policy: 'least_connections',
      extra: '    http: {keep_alive_timeout: 0s}\n' }),
    { ready: 1 },
  );
  t.after(() => sup.stop());
  const held = [await holdOpen(port), await holdOpen(port)];
  t.after(() => held.forEach((x) => x.socket.destroy()));
  assert.deepStrictEqual(held.map((x) => x.slot), [1, 1]);
  await open(sup, 1, 2);
  cli(sup, ['scale', 'hello', '2', '--no-wait']);
  await sup.log.waitFor(/event=ready app=hello slot=2 /);
  // Slot 1 holds 2; slot 2 at most the one it is serving: round_robin would alternate.
  for (let i = 0; i < 6; i++) {
    const res = await h.request({ port });
    assert.strictEqual(res.status, 200);
    assert.strictEqual(h.workerOf(res).slot, 2, `request ${i + 1}`);
  }
});
