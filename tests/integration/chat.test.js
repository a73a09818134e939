'use strict';
// The chat example (examples/chat) under the real supervisor with its affinity plugin
// (build/lib/libchat_affinity.so): WebSockets for a room reach the slot the plugin names,
// the members of a room meet in one process, pins win, other paths get 404 from the
// master, and plugins that cannot be used stop the supervisor before any worker starts.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const h = require('./helpers');

const { joinRoom, WebSocket } = require('./chat-member');

const CHAT = path.join(h.ROOT, 'examples/chat/server.js');
const PLUGIN = h.pluginFile('chat_affinity');
const WORKERS = 4;
const ROOMS = ['lobby', 'vip', 'far', ...Array.from({ length: 12 }, (_, i) => `room-${i}`)];


function chatConfig(port, policy) {
  return `listeners:
  - address: 127.0.0.1:${port}
apps:
  - name: chat
    command: ${JSON.stringify([h.NODE, CHAT])}
    workers: ${WORKERS}
    policy: ${policy}
`;
}

const pluginPolicy = (pins, pluginPath = PLUGIN) =>
  `{plugin: {path: ${JSON.stringify(pluginPath)}, config: ${JSON.stringify(pins)}}}`;

async function info(port, room) {
  const res = await h.request({ port, path: `/chat/${room}/info` });
  assert.strictEqual(res.status, 200, res.body);
  const body = JSON.parse(res.body);
  assert.strictEqual(body.room, room);
  assert.strictEqual(h.workerOf(res).pid, body.pid);
  return body;
}

// A member of a room through the supervisor (chat-member.js).
const join = (port, room, prefix = 'chat') => joinRoom(`ws://127.0.0.1:${port}/${prefix}/${room}`);

// The slot of each room under the built-in rule {url_segment: {index: 2}}, which the
// plugin must agree with for every room it does not pin: an independent computation by
// the supervisor itself, without the plugin.
let hashed = null;
function hashedSlots() {
  hashed ??= (async () => {
    const port = await h.freePort();
    const sup = await h.startSupervisor(chatConfig(port, '{url_segment: {index: 2}}'), { ready: WORKERS });
    try {
      const slots = new Map();
      for (const room of ROOMS) slots.set(room, (await info(port, room)).slot);
      return slots;
    } finally {
      await sup.stop();
    }
  })();
  return hashed;
}

// One supervisor with the plugin for the routing tests. Pins are chosen off the hash
// (lobby and vip each one slot past their hashed slot), so a pin that is ignored fails;
// `far` is pinned beyond the 4 slots and so is hashed.
let chat = null;
async function chatCluster() {
  chat ??= (async () => {
    const slots = await hashedSlots();
    const pinned = {
      lobby: (slots.get('lobby') % WORKERS) + 1,
      vip: (slots.get('vip') % WORKERS) + 1,
    };
    const port = await h.freePort();
    const pins = `lobby=${pinned.lobby}, vip=${pinned.vip}, far=${WORKERS + 5}`;
    const sup = await h.startSupervisor(chatConfig(port, pluginPolicy(pins)), { ready: WORKERS });
    return { port, sup, pinned, expected: (room) => pinned[room] ?? slots.get(room) };
  })();
  return chat;
}
test.after(async () => {
  if (chat) await (await chat).sup.stop();
});

test('the url_segment rule spreads the test rooms over every slot (so the next tests can fail)', async () => {
  const slots = await hashedSlots();
  assert.deepStrictEqual([...new Set(slots.values())].sort(), [1, 2, 3, 4]);
});

test('a WebSocket on /chat/<room> lands on the slot the plugin names and keeps working', async () => {
  const { port, expected } = await chatCluster();
  for (const room of ROOMS.filter((r) => r.startsWith('room-'))) {
    const client = await join(port, room);
    const slot = expected(room);
    assert.strictEqual(client.welcome.slot, slot, room);
    assert.strictEqual(client.upgradedBy.slot, slot, room);
    assert.strictEqual(client.upgradedBy.pid, client.welcome.pid);
    const room_ = await info(port, room);
    assert.deepStrictEqual(room_, { room, members: 1, slot, pid: client.welcome.pid, client: '127.0.0.1' });
    for (let i = 0; i < 5; i++) {
      client.ws.send(`message ${i}`);
      const echo = await client.next();
      assert.deepStrictEqual(echo, { type: 'message', room, text: `message ${i}`, slot, pid: client.welcome.pid });
    }
    await client.close();
  }
});

test('two clients in one room exchange messages through the same process', async () => {
  const { port } = await chatCluster();
  const alice = await join(port, 'room-3');
  const bob = await join(port, 'room-3');
  assert.strictEqual(bob.welcome.members, 2);
  assert.strictEqual(bob.welcome.pid, alice.welcome.pid);
  assert.strictEqual((await info(port, 'room-3')).members, 2);
  alice.ws.send('hello from alice');
  for (const client of [bob, alice]) {
    const m = await client.next();
    assert.strictEqual(m.text, 'hello from alice');
    assert.strictEqual(m.pid, alice.welcome.pid);
  }
  bob.ws.send('hello from bob');
  for (const client of [alice, bob]) {
    const m = await client.next();
    assert.strictEqual(m.text, 'hello from bob');
    assert.strictEqual(m.pid, bob.welcome.pid);
  }
  // Another room in the same process (when a test room shares room-3's slot) hears nothing
  // of it: its client's first message after the welcome is its own.
  const { expected } = await chatCluster();
  const neighbour = ROOMS.find((r) => r.startsWith('room-') && r !== 'room-3' && expected(r) === expected('room-3'));
  const carol = await join(port, neighbour ?? 'room-4');
  carol.ws.send('hello from carol');
  assert.strictEqual((await carol.next()).text, 'hello from carol');
  for (const client of [alice, bob, carol]) await client.close();
});

test('pinned rooms go to their pinned slot; a pin beyond the slots falls back to the hash', async () => {
  const { port, pinned, expected } = await chatCluster();
  const slots = await hashedSlots();
  for (const room of ['lobby', 'vip']) {
    assert.notStrictEqual(pinned[room], slots.get(room));
    const client = await join(port, room);
    assert.strictEqual(client.welcome.slot, pinned[room], room);
    assert.strictEqual((await info(port, room)).slot, pinned[room], room);
    await client.close();
  }
  const far = await join(port, 'far');
  assert.strictEqual(far.welcome.slot, expected('far'));
  assert.strictEqual(far.welcome.slot, slots.get('far'));
  await far.close();
});

test('a path that is not /chat/<room> gets 404 from the master, not from a worker', async () => {
  const { port } = await chatCluster();
  for (const p of ['/', '/hello', '/chat', '/chat/', '/chat//info', '/chats/lobby']) {
    const res = await h.request({ port, path: p });
    assert.strictEqual(res.status, 404, p);
    assert.strictEqual(res.headers['x-handoff-worker'], undefined, `${p} reached a worker`);
  }
  await assert.rejects(join(port, ''), /status 404/);
  const ws = new WebSocket(`ws://127.0.0.1:${port}/elsewhere`);
  const status = await new Promise((resolve, reject) => {
    ws.on('unexpected-response', (req, res) => resolve(res.statusCode));
    ws.on('open', () => reject(new Error('opened')));
    ws.on('error', reject);
  });
  assert.strictEqual(status, 404);
});

test('stopping the supervisor says goodbye (1001) to open WebSockets and exits 0', async () => {
  const port = await h.freePort();
  const sup = await h.startSupervisor(chatConfig(port, pluginPolicy('')), { ready: WORKERS });
  const clients = await Promise.all(['room-0', 'room-1', 'room-2'].map((room) => join(port, room)));
  await sup.stop();
  for (const client of clients) assert.strictEqual(await client.closed, 1001);
});

// ---- plugins that cannot be used ----

function writeConfig(policy) {
  const file = path.join(h.tempDir(), 'chat.yaml');
  fs.writeFileSync(file, chatConfig(9, policy));
  return file;
}

const broken = [
  { what: 'a missing library', plugin: h.pluginFile('no-such-plugin'), reason: /cannot load plugin/ },
  {
    what: 'a library without handoff_affinity_pick',
    plugin: h.pluginFile('missing_pick', 'test-plugins'),
    reason: /does not export handoff_affinity_pick/,
  },
  {
    what: 'a library of another ABI version',
    plugin: h.pluginFile('future_abi', 'test-plugins'),
    reason: /has ABI version 2; this supervisor speaks version 1/,
  },
  { what: 'a config string the plugin refuses', plugin: PLUGIN, pins: 'lobby=0', reason: /refused its config: pin "lobby=0"/ },
];

for (const mode of ['--config', 'check']) {
  for (const { what, plugin, pins = '', reason } of broken) {
    test(`${mode}: ${what} stops the supervisor before any worker starts`, async () => {
      if (plugin !== PLUGIN && !plugin.includes('no-such')) assert.ok(fs.existsSync(plugin), `${plugin} not built`);
      const file = writeConfig(pluginPolicy(pins, plugin));
      const r = await h.runSupervisor(mode === 'check' ? ['check', file] : ['--config', file]);
      assert.notStrictEqual(r.code, 0);
      assert.ok(r.stderr.includes(path.basename(plugin)), r.stderr);
      assert.match(r.stderr, reason);
      assert.match(r.stderr, new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:\\d+:\\d+: apps\\[0\\]\\.policy`));
      assert.doesNotMatch(r.stderr + r.stdout, /event=spawn/);
    });
  }
}

test('configs/chat.yaml passes check', async (t) => {
  // The config names the default build's library; a sanitizer-only build has none.
  if (!fs.existsSync(path.join(h.ROOT, 'build/lib/libchat_affinity.so'))) return t.skip('build/ has no plugin');
  const r = await h.runSupervisor(['check', path.join(h.ROOT, 'configs/chat.yaml')]);
  assert.strictEqual(r.code, 0, r.stderr);
});

test('url_segment with slot numbers: a WebSocket on /3/room lands on slot 3; its members meet there', async (t) => {
  const port = await h.freePort();
  const sup = await h.startSupervisor(chatConfig(port, '{url_segment: {index: 1, direct: true}}'), { ready: WORKERS });
  t.after(() => sup.stop());
  for (const slot of [3, 1, 4, 2]) {
    const alice = await join(port, 'room', String(slot));
    assert.strictEqual(alice.upgradedBy.slot, slot);
    assert.strictEqual(alice.welcome.slot, slot);
    const bob = await join(port, 'room', String(slot));
    assert.strictEqual(bob.welcome.pid, alice.welcome.pid);
    assert.strictEqual(bob.welcome.members, 2);
    for (let i = 0; i < 5; i++) {
      alice.ws.send(`ping ${i}`);
      for (const client of [alice, bob]) {
        const m = await client.next();
        assert.strictEqual(m.text, `ping ${i}`);
        assert.strictEqual(m.slot, slot);
      }
    }
    for (const client of [alice, bob]) await client.close();
  }
});
