'use strict';
// Per-request affinity in the SDKs: a request after the first on a keep-alive connection
// that belongs to another slot goes back to the master (`handback`, with the bytes the
// worker read and did not serve), which routes it again. Here the test plays a small
// master for two real workers (slots 1 and 2 of an app routed by `url_segment` with
// `direct`): every socket given back is handed to the slot its first path segment names,
// with the carried bytes as `head`. Both SDKs: the Node SDK (hello-node) and the C++ SDK
// (hello-cpp, from the build).

const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const { SCRIPTS, forkWorker, listen, RawClient } = require('./helpers');

const ROUTE = { rule: 'url_segment', index: 1, direct: true, missing: 'stay', prefixes: [], foreign: [] };

// Two workers and a master that routes handed-back sockets by /N/.
async function twoSlots(t, script, { route = ROUTE } = {}) {
  const welcome = (slot) => ({ app: 'hello', slot, workers: 2, generation: 1, heartbeat_ms: 0, route });
  const slots = [
    await forkWorker(t, script, { env: { HANDOFF_SLOT: '1' }, welcome: welcome(1) }),
    await forkWorker(t, script, { env: { HANDOFF_SLOT: '2' }, welcome: welcome(2) }),
  ];
  const master = { slots, handbacks: [], front: null };
  for (const worker of slots) {
    worker.child.on('message', (message, socket) => {
      if (!message || message.handoff !== 'handback' || !socket) return;
      // Node's child_process starts reading a received socket at once: stop before any
      // read, so that what the client sends next stays in the kernel for the next worker.
      socket.pause();
      socket._handle.readStop();
      const head = Buffer.from(message.head, 'base64');
      master.handbacks.push({ from: worker.child.pid, message, head });
      const slot = Number(/^[A-Z]+ \/(\d+)\//.exec(head.toString('latin1'))?.[1] ?? 1);
      slots[slot - 1].handOver(socket, { head: message.head });
    });
  }
  master.front = await listen(t, (socket) => slots[0].handOver(socket));
  return master;
}

// Both SDKs; the C++ one only where the build has it.
const SDKS = [
  ['node', SCRIPTS.hello],
  ['cpp', SCRIPTS.helloCpp],
];

for (const [sdk, script] of SDKS) {
  const skip = fs.existsSync(script) ? false : `${script} is not built`;

  test(`${sdk}: one keep-alive connection alternating slots is served by the right slot each time`, { timeout: 60000, skip }, async (t) => {
    const master = await twoSlots(t, script);
    const pids = master.slots.map((w) => w.child.pid);
    const client = await RawClient.connect(master.front.port);
    t.after(() => client.close());
    const order = [1, 2, 2, 1, 2, 1, 1, 2];
    for (const slot of order) {
      client.write(`GET /${slot}/pid HTTP/1.1\r\nHost: x\r\n\r\n`);
      const res = await client.response();
      assert.equal(res.status, 200);
      assert.equal(res.headers['x-handoff-worker'], `hello/${slot}/${pids[slot - 1]}`);
      assert.equal(res.body.toString(), String(pids[slot - 1]));
    }
    assert.equal(master.front.accepted, 1); // one connection all along
    // A handback at each change of slot, each carrying its request's head.
    assert.equal(master.handbacks.length, 5);
    for (const back of master.handbacks) {
      assert.match(back.head.toString('latin1'), /^GET \/\d\/pid HTTP\/1\.1\r\n/i);
      assert.equal(back.message.listener, 't');
    }
  });

  test(`${sdk}: a 1 MB POST that belongs to the other slot arrives there whole`, { timeout: 60000, skip }, async (t) => {
    const master = await twoSlots(t, script);
    const pids = master.slots.map((w) => w.child.pid);
    const client = await RawClient.connect(master.front.port);
    t.after(() => client.close());
    client.write('GET /1/pid HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal((await client.response()).body.toString(), String(pids[0]));

    // Binary, so that anything taken through a string would show.
    const body = crypto.randomBytes(1 << 20);
    client.write(`POST /2/echo HTTP/1.1\r\nHost: x\r\nContent-Length: ${body.length}\r\n\r\n`);
    client.write(body);
    const res = await client.response();
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-handoff-worker'], `hello/2/${pids[1]}`);
    assert.equal(res.body.length, body.length);
    assert.ok(res.body.equals(body), 'the echoed body differs');

    // And the connection goes on, back on slot 1.
    client.write('GET /1/pid HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal((await client.response()).body.toString(), String(pids[0]));
    assert.equal(master.front.accepted, 1);
  });

  test(`${sdk}: pipelined requests for both slots are answered in order`, { timeout: 60000, skip }, async (t) => {
    const master = await twoSlots(t, script);
    const pids = master.slots.map((w) => w.child.pid);
    const client = await RawClient.connect(master.front.port);
    t.after(() => client.close());
    const order = [1, 1, 2, 2, 1];
    client.write(order.map((slot) => `GET /${slot}/pid HTTP/1.1\r\nHost: x\r\n\r\n`).join(''));
    for (const slot of order) {
      const res = await client.response();
      assert.equal(res.headers['x-handoff-worker'], `hello/${slot}/${pids[slot - 1]}`);
    }
    assert.equal(master.handbacks.length, 2);
  });

  test(`${sdk}: a request for another slot behind a slow response waits for it`, { timeout: 60000, skip }, async (t) => {
    const master = await twoSlots(t, script);
    const pids = master.slots.map((w) => w.child.pid);
    const client = await RawClient.connect(master.front.port);
    t.after(() => client.close());
    client.write('GET /1/slow?ms=300 HTTP/1.1\r\nHost: x\r\n\r\nGET /2/pid HTTP/1.1\r\nHost: x\r\n\r\n');
    const slow = await client.response();
    assert.equal(slow.body.toString(), 'slow 300 ms');
    assert.equal(slow.headers['x-handoff-worker'], `hello/1/${pids[0]}`);
    assert.equal((await client.response()).headers['x-handoff-worker'], `hello/2/${pids[1]}`);
  });

  test(`${sdk}: a request without a key stays, or goes back with missing: handback`, { timeout: 60000, skip }, async (t) => {
    const master = await twoSlots(t, script, { route: { ...ROUTE, missing: 'handback' } });
    const pids = master.slots.map((w) => w.child.pid);
    const client = await RawClient.connect(master.front.port);
    t.after(() => client.close());
    client.write('GET /2/pid HTTP/1.1\r\nHost: x\r\n\r\n'); // the master put it on slot 1: the first stays
    assert.equal((await client.response()).headers['x-handoff-worker'], `hello/1/${pids[0]}`);
    client.write('GET /x/pid HTTP/1.1\r\nHost: x\r\n\r\n'); // no key: back, and our master says slot 1
    assert.equal((await client.response()).headers['x-handoff-worker'], `hello/1/${pids[0]}`);
    assert.equal(master.handbacks.length, 1);
  });
}

test('node: an app without upgrade listeners sees none, before or after hand-backs', { timeout: 60000 }, async (t) => {
  const master = await twoSlots(t, SCRIPTS.echo);
  const client = await RawClient.connect(master.front.port);
  t.after(() => client.close());
  for (const slot of [1, 2, 1, 2, 1]) {
    client.write(`GET /${slot}/listeners HTTP/1.1\r\nHost: x\r\n\r\n`);
    const res = await client.response();
    assert.equal(res.status, 200);
    const seen = JSON.parse(res.body.toString());
    // The SDK's 'upgrade' listener lives only inside the parse of a request it hands back.
    assert.equal(seen.upgrade, 0);
    assert.ok(!seen.added.includes('upgrade'), `the app saw an 'upgrade' listener added: ${res.body}`);
    assert.ok(!seen.removed.includes('upgrade'), `the app saw an 'upgrade' listener removed: ${res.body}`);
  }
  assert.equal(master.handbacks.length, 4);
});

test('node: a `route` message replaces the rule of the welcome, for the connections held', { timeout: 60000 }, async (t) => {
  // Welcomed without a rule (round_robin): everything stays.
  const master = await twoSlots(t, SCRIPTS.hello, { route: null });
  const pids = master.slots.map((w) => w.child.pid);
  const connect = async () => {
    const client = await RawClient.connect(master.front.port);
    t.after(() => client.close());
    return async (path) => {
      client.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      return pids.indexOf(Number((await client.response()).body.toString())) + 1;
    };
  };
  const slotOf = await connect();
  assert.equal(await slotOf('/1/pid'), 1);
  assert.equal(await slotOf('/2/pid'), 1);

  // The reload's rule. A message on the channel and a request on a socket are read by
  // the worker in no set order (two descriptors), so wait until both workers act on it:
  // a fresh connection's /2/ goes back from slot 1 and its next /1/ from slot 2.
  const tell = (message, slots = master.slots) =>
    Promise.all(slots.map((w) => new Promise((resolve) => w.child.send({ handoff: 'route', v: 1, ...message }, resolve))));
  const until = async (done, what) => {
    const deadline = Date.now() + 10000;
    while (!(await done())) assert.ok(Date.now() < deadline, `still not ${what}`);
  };
  await tell({ workers: 2, route: ROUTE });
  await until(async () => {
    const probe = await connect();
    return [await probe('/1/pid'), await probe('/2/pid'), await probe('/1/pid')].join() === '1,2,1';
  }, 'checking /N/');
  assert.equal(await slotOf('/2/pid'), 2);
  assert.equal(await slotOf('/1/pid'), 1);
  assert.equal(await slotOf('/2/pid'), 2);

  // And back to no rule, slot 2 first (slot 1 still hands /2/ over, so a probe reaches it),
  // then slot 1: the held connection, on slot 2, stays there.
  await tell({ workers: 2 }, [master.slots[1]]);
  await until(async () => {
    const probe = await connect();
    return [await probe('/1/pid'), await probe('/2/pid'), await probe('/1/pid')].join() === '1,2,2';
  }, 'keeping everything on slot 2');
  await tell({ workers: 2 }, [master.slots[0]]);
  await until(async () => {
    const probe = await connect();
    return [await probe('/1/pid'), await probe('/2/pid')].join() === '1,1';
  }, 'keeping everything on slot 1');
  assert.equal(await slotOf('/1/pid'), 2);
  assert.equal(await slotOf('/2/pid'), 2);
});
