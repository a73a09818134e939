'use strict';
// A reload that changes an app's rule, or the prefixes of a port it shares, and a scale
// that changes its slot count, reach the SDK workers at once (the master's `route`
// message): the keep-alive connections they already hold have their next requests
// checked against the new rule, not the one their `welcome` carried. Both SDKs; the Node
// workers run on the Node that runs this file.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const { spawnSync } = require('node:child_process');
const h = require('./helpers');
const { RawClient } = require('../node/helpers');

const SDKS = [
  { name: 'C++ SDK (hello-cpp)', command: [h.HELLO_CPP] },
  { name: 'Node SDK (hello-node)', command: [h.NODE, h.HELLO_NODE] },
];
const CANDIDATE_ROOMS = Array.from({ length: 64 }, (_, i) => `room-${i}`);
const ROOMS_PER_SLOT = 4;
// The keep-alive connections these tests hold sit idle between their steps (a reload, a
// scale, probes on other connections): on a busy machine (ctest -j2 beside a build) that
// took over the default keep_alive_timeout of 5 s, and the worker rightly closed one
// ("connection closed"). Timeouts are not what this file tests: they outlive the test.
const HELD = '    http: {keep_alive_timeout: 300s}\n';



// Rewrites the config and applies it without replacing the workers (`reload
// --config-only`: the connections held stay with the workers that hold them); resolves
// once the master has told the app's workers their new rule (its `route` log line).
async function reload(sup, yaml, routed) {
  const mark = sup.log.mark();
  fs.writeFileSync(sup.file, yaml);
  const r = await h.cli(sup, ['reload', '--config-only']);
  assert.strictEqual(r.code, 0, r.stderr);
  await sup.log.waitFor(routed, { from: mark });
}

// `count` keep-alive connections, each having served its first request (with the
// headers `first(i)` gives the i-th).
async function connections(t, port, count, first = () => '') {
  const conns = [];
  for (let i = 0; i < count; i++) {
    const client = await RawClient.connect(port);
    t.after(() => client.close());
    const conn = {
      client,
      localPort: client.socket.localPort,
      async get(path, headers = '') {
        client.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n${headers}\r\n`);
        const res = await client.response(h.TIMEOUT);
        assert.strictEqual(res.status, 200, path);
        assert.ok(!client.closed && client.socket.localPort === conn.localPort, 'the same connection');
        return h.workerOf(res);
      },
    };
    conn.first = await conn.get('/pid', first(i));
    conns.push(conn);
  }
  return conns;
}

// The slot the master routes each candidate room to, asked on fresh connections (whose
// first request the master routes itself).
async function masterMap(port) {
  const map = new Map();
  for (const room of CANDIDATE_ROOMS) {
    const res = await h.request({ port, path: '/pid', headers: { 'x-room': room } });
    assert.strictEqual(res.status, 200);
    map.set(room, h.workerOf(res).slot);
  }
  return map;
}

// ROOMS_PER_SLOT rooms for each of `workers` slots, as [room, slot], taking turns between
// the slots.
function roomsOfEachSlot(map, workers) {
  const bySlot = Array.from({ length: workers }, (_, i) => [...map].filter(([, slot]) => slot === i + 1));
  for (const [i, rooms] of bySlot.entries()) assert.ok(rooms.length >= ROOMS_PER_SLOT, `rooms of slot ${i + 1}`);
  return Array.from({ length: ROOMS_PER_SLOT * workers }, (_, i) => bySlot[i % workers][Math.floor(i / workers)]);
}

const roomOf = (map, slot) => [...map].find(([, s]) => s === slot)[0];
const room = (name) => `x-room: ${name}\r\n`;

// Two requests on a fresh connection, the second chosen from the answer to the first:
// resolves with who answered each.
async function probe(port, [path, headers], second) {
  const client = await RawClient.connect(port);
  try {
    const get = async (p, hs) => {
      client.write(`GET ${p} HTTP/1.1\r\nHost: x\r\n${hs}\r\n`);
      const res = await client.response(h.TIMEOUT);
      assert.strictEqual(res.status, 200, p);
      return h.workerOf(res);
    };
    const first = await get(path, headers);
    return [first, await get(...second(first))];
  } finally {
    client.close();
  }
}

// The master's `route` message and a client's request reach a worker on two descriptors,
// which it reads in no set order: a request sent right after the master's `route` log
// line may still be checked against the old rule. So a test first waits until the worker
// of each slot in `slots` is seen deciding by the new rule: check() probes once (a fresh
// connection, whose second request that worker keeps or hands back) and says which slot
// decided and whether by the new rule.
async function untilApplied(slots, check) {
  const seen = new Set();
  const last = await h.eventually(async () => {
    const { slot, applied } = await check();
    if (applied) seen.add(slot);
    return { ok: slots.every((s) => seen.has(s)), seen: [...seen] };
  });
  assert.ok(last.ok, `slots seen deciding by the new rule: ${last.seen.join() || 'none'}`);
}

// Every room on every held connection, so that each connection has requests for each
// slot; each must be answered by the slot the master routes its room to.
async function checkRooms(conns, rooms) {
  const wrong = [];
  for (const [i, conn] of conns.entries()) {
    for (const [name, slot] of rooms) {
      h.checkMasters();
      const worker = await conn.get('/pid', room(name));
      if (worker.slot !== slot) wrong.push(`connection ${i}, ${name}: slot ${worker.slot}, not ${slot}`);
    }
  }
  const total = conns.length * rooms.length;
  assert.deepStrictEqual(wrong, [], `${wrong.length} of ${total} requests went to the wrong slot`);
}

for (const sdk of SDKS) {
  test(`${sdk.name}: round_robin -> {header: x-room} by reload applies to the keep-alive connections held, and back`, async (t) => {
    const port = await h.freePort();
    // Master dispatch throughout: a reload cannot move a listener between the kernel's
    // intake (round_robin's default) and the master's (the header rule).
    const extra = `${HELD}    dispatch: master\n`;
    const config = (policy) => h.appsConfig({ port, apps: [{ command: sdk.command, policy, extra }] });
    const sup = await h.startApps(t, config('round_robin'), { hello: 2 });
    const conns = await connections(t, port, 4);
    assert.deepStrictEqual(new Set(conns.map((c) => c.first.slot)), new Set([1, 2]), 'round_robin used both slots');

    await reload(sup, config('{header: x-room}'), /event=route app=hello workers=2 rule=header/);
    const map = await masterMap(port);
    // Each worker hands a room of the other slot back.
    let turn = 0;
    await untilApplied([1, 2], async () => {
      const slot = (turn++ % 2) + 1;
      const [first, second] = await probe(port, ['/pid', room(roomOf(map, slot))], () => ['/pid', room(roomOf(map, 3 - slot))]);
      return { slot: first.slot, applied: second.slot === 3 - slot };
    });
    await checkRooms(conns, roomsOfEachSlot(map, 2));

    // Back to a rule a worker cannot check: every request stays where its connection is.
    await reload(sup, config('round_robin'), /event=route app=hello workers=2 rule=none/);
    await untilApplied([1, 2], async () => {
      const [first, second] = await probe(port, ['/pid', ''], (w) => ['/pid', room(roomOf(map, 3 - w.slot))]);
      return { slot: first.slot, applied: second.slot === first.slot };
    });
    for (const conn of conns) {
      const before = await conn.get('/pid');
      for (const [name] of roomsOfEachSlot(map, 2)) assert.deepStrictEqual(await conn.get('/pid', room(name)), before);
    }
  });

  test(`${sdk.name}: supervisor scale 2 -> 3 maps the keys of the keep-alive connections held onto 3 slots`, async (t) => {
    const port = await h.freePort();
    const sup = await h.startApps(t, h.appsConfig({ port, apps: [{ command: sdk.command, policy: '{header: x-room}', extra: HELD }] }), { hello: 2 });
    const conns = await connections(t, port, 4, (i) => room(CANDIDATE_ROOMS[i]));
    const before = await masterMap(port);
    const mark = sup.log.mark();
    const argv = h.supervisorArgv(['scale', 'hello', '3', '--config', sup.file]);
    const scaled = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8', timeout: h.TIMEOUT });
    assert.strictEqual(scaled.status, 0, scaled.stderr);
    await sup.log.waitFor(/event=route app=hello workers=3 rule=header/, { from: mark });
    await sup.log.waitFor(/event=ready app=hello slot=3 /, { from: mark });
    const map = await masterMap(port);
    // Slots 1 and 2 hand back a room they kept with 2 slots and that is another's with 3.
    const moved = (slot) => [...map].find(([name, s]) => before.get(name) === slot && s !== slot);
    let turn = 0;
    await untilApplied([1, 2], async () => {
      const slot = (turn++ % 2) + 1;
      const [name, now] = moved(slot);
      const [first, second] = await probe(port, ['/pid', room(roomOf(map, slot))], () => ['/pid', room(name)]);
      return { slot: first.slot, applied: second.slot === now };
    });
    await checkRooms(conns, roomsOfEachSlot(map, 3));
  });

  test(`${sdk.name}: a reload that gives part of an app's prefix to another app on a shared port applies to connections held`, async (t) => {
    const port = await h.freePort();
    const config = (bRoutes) =>
      h.appsConfig({
        port,
        apps: [
          { name: 'a', command: sdk.command, policy: 'round_robin', extra: `    routes: ["/a/"]\n${HELD}` },
          { name: 'b', command: sdk.command, policy: 'round_robin', extra: `    routes: ${JSON.stringify(bRoutes)}\n${HELD}` },
        ],
      });
    const sup = await h.startApps(t, config(['/b/']), { a: 2, b: 2 });
    const client = await RawClient.connect(port);
    t.after(() => client.close());
    const get = async (path) => {
      client.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
      const res = await client.response(h.TIMEOUT);
      assert.strictEqual(res.status, 200, path);
      return h.workerOf(res).app;
    };
    assert.strictEqual(await get('/a/pid'), 'a');
    assert.strictEqual(await get('/a/api/pid'), 'a');
    // b takes /a/api/: a's workers must learn that it is foreign now.
    const mark = sup.log.mark();
    await reload(sup, config(['/b/', '/a/api/']), /event=route app=a workers=2 rule=none/);
    await sup.log.waitFor(/event=route app=b workers=2 rule=none/, { from: mark });
    await untilApplied([1, 2], async () => {
      const [first, second] = await probe(port, ['/a/pid', ''], () => ['/a/api/pid', '']);
      return { slot: first.slot, applied: second.app === 'b' };
    });
    for (const [path, app] of [
      ['/a/pid', 'a'],
      ['/a/api/pid', 'b'],
      ['/a/pid', 'a'],
      ['/a/api/pid', 'b'],
      ['/b/pid', 'b'],
      ['/a/pid', 'a'],
    ])
      assert.strictEqual(await get(path), app, path);
    assert.ok(!client.closed);
  });
}
