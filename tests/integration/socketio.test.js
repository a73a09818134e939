'use strict';
// socket.io, unmodified, through the real supervisor: the real socket.io server
// (tests/apps/socketio/server.js on the Node SDK) and the real socket.io-client, both from
// tests/apps (`cd tests/apps && npm ci`), with default transports: long-polling first, then
// the upgrade to WebSocket. engine.io keeps each session in the worker that answered its
// handshake, so every later request of a session must reach that worker; a request that
// does not is answered `400 {"code":1,"message":"Session ID unknown"}`, and this file
// counts those explicitly, on both sides: the clients' errors, and the app's log line for
// each engine.io 'connection_error' (every such 400, wherever it happened, except the last
// poll of a session its client had just closed in that very worker: LATE_LINE below).
//
// The three patterns of docs/recipes/socket.io.md:
//  - {query: sid} + socketio(io): any client, here hundreds from one address over one
//    keep-alive agent (the SDK hands requests for other slots back on kept connections);
//  - {query: room}: a room's members in one worker, broadcasts without an adapter;
//  - ip_hash: clients with distinct addresses.
// And what ends sessions: kill -9 of a worker, a rolling reload, scaling 4 → 8 → 3.
const test = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { createRequire } = require('node:module');
const h = require('./helpers');
const { slotForKey } = require('../../worker-sdk/node/route-key');

const APPS = path.join(h.ROOT, 'tests/apps');
const APP = path.join(APPS, 'socketio/server.js');
function appPackage(name) {
  try {
    return createRequire(path.join(APPS, 'package.json'))(name);
  } catch (e) {
    throw new Error(`${name} is missing from tests/apps: run "cd tests/apps && npm ci" (${e.message})`);
  }
}
const { io: connectClient } = appPackage('socket.io-client');

const WORKERS = 4;
// The runner's own Node, so that one run proves one version; under wine (the Windows
// build) the prefix's Windows node.
const NODE = h.NODE;
const UNKNOWN_LINE = /socketio connection_error code=1 /; // engine.io's Server.errors.UNKNOWN_SID
// The same answer to a request of a session its client had closed in that worker (the app's
// log says so): its last poll, overtaken by its close packet on another connection. Affinity
// held; shown, not counted.
const LATE_LINE = /socketio late_request code=1 /;

function socketioConfig(port, options = {}) {
  const { workers = WORKERS, policy = '{query: sid}', missingKey = 'round_robin', env = {} } = options;
  return `listeners:
  - address: 127.0.0.1:${port}
apps:
  - name: sio
    command: ${JSON.stringify([NODE, APP])}
    workers: ${workers}
    policy: ${policy}
${missingKey ? `    missing_key: ${missingKey}\n` : ''}    env: ${JSON.stringify(env)}
`;
}

// "Session ID unknown" as a client sees it: engine.io-client's transport error carries the
// HTTP status (description) and, for long-polling, the XMLHttpRequest (context).
function isUnknownSession(error) {
  return Boolean(error) && error.description === 400 && /"code":1[,}]/.test(String(error.context?.responseText ?? ''));
}

// A disconnect's details as text: the transport error's message, HTTP status (description)
// and the start of the response, or the WebSocket close's.
function describeDetails(details) {
  if (!details) return 'no details';
  const text = String(details.context?.responseText ?? details.context?.reason ?? '').slice(0, 120);
  return [details.message, details.description, text].filter((x) => x !== undefined && x !== '').join(' ');
}

// Resolves when `emitter` emits `event` (with pred true), rejects after `ms`.
function once(emitter, event, what, { ms = h.TIMEOUT, pred = () => true } = {}) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, on);
      reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
    }, ms);
    function on(...args) {
      if (!pred(...args)) return;
      clearTimeout(timer);
      emitter.off(event, on);
      resolve(args);
    }
    emitter.on(event, on);
  });
}

// One socket.io session (forceNew: a Manager, an engine.io session and its own sid each)
// and everything that happens to it.
class Client {
  constructor(port, name, options = {}) {
    this.name = name;
    this.socket = connectClient(`http://127.0.0.1:${port}`, { forceNew: true, ...options });
    this.connects = 0;
    this.disconnects = []; // reasons
    this.disconnectDetails = []; // what engine.io-client said with each (for failure messages)
    this.connectErrors = []; // messages
    this.unknownSession = 0; // 400 "Session ID unknown" seen by this client
    this.upgradeErrors = [];
    this.received = []; // 'shout' broadcasts
    const { socket } = this;
    socket.on('connect', () => this.connects++);
    socket.on('disconnect', (reason, details) => {
      this.disconnects.push(reason);
      this.disconnectDetails.push(describeDetails(details));
      if (isUnknownSession(details)) this.unknownSession++;
    });
    socket.on('connect_error', (error) => {
      this.connectErrors.push(error.message);
      if (isUnknownSession(error)) this.unknownSession++;
    });
    socket.on('shout', (message) => this.received.push(message));
    // A failed WebSocket probe falls back to polling silently: count it.
    socket.io.on('open', () => socket.io.engine.on('upgradeError', (e) => this.upgradeErrors.push(e.message)));
  }

  get engine() {
    return this.socket.io.engine;
  }

  async connected() {
    if (this.socket.connected) return;
    const failed = once(this.socket, 'connect_error', `${this.name}: connect`).then(([e]) => {
      throw new Error(`${this.name}: connect_error ${e.message} ${e.description ?? ''}`);
    });
    failed.catch(() => {});
    await Promise.race([once(this.socket, 'connect', `${this.name}: connect`), failed]);
  }

  // Waits for the `n`th connect (reconnections count).
  async connectedTimes(n, ms = h.TIMEOUT) {
    if (this.connects >= n && this.socket.connected) return;
    await once(this.socket, 'connect', `${this.name}: connect number ${n}`, { ms, pred: () => this.connects >= n });
  }

  async upgraded() {
    if (this.engine.transport.name === 'websocket') return;
    await once(this.engine, 'upgrade', `${this.name}: the upgrade to WebSocket`);
  }

  ask(event, ...args) {
    return this.socket.timeout(h.TIMEOUT).emitWithAck(event, ...args);
  }

  close() {
    this.socket.close();
  }
}

// Requests of an http.Agent on a connection or waiting for one (kept idle ones are free).
const inFlight = (agent) =>
  [agent.sockets, agent.requests].reduce((n, lists) => n + Object.values(lists).reduce((m, l) => m + l.length, 0), 0);

// Per test: a supervisor, clients and agents, all closed after it whatever happened.
async function setUp(t, options) {
  const port = await h.freePort();
  const sup = await h.startSupervisor(socketioConfig(port, options), { ready: WORKERS });
  const clients = [];
  const agents = [];
  let finished = null;
  // Closes the clients, waits until every request they have in flight is answered, then
  // stops the supervisor: every line its workers wrote is in the log after that, so counts
  // taken then are complete. A long-polling client has requests in flight when it closes
  // (its pending poll, the POST with socket.io's disconnect, then the one with engine.io's
  // close packet; the server answers the poll once the session closes), and nothing may cut
  // them short. Agents destroyed at once reset them, and xmlhttprequest-ssl sends a request
  // reset on a kept connection again on a new one, while engine.io has dropped the session
  // for its poll's closed connection: "Session ID unknown" (every client, each time, when
  // the master still accepts then, as under ASan). A supervisor stopped first has its
  // workers drop every session (io.close() on drain) before those requests arrive.
  const finish = () => {
    finished ??= (async () => {
      for (const c of clients) c.close();
      const settled = await h.eventually(() => {
        const busy = agents.reduce((n, a) => n + inFlight(a), 0);
        return { ok: busy === 0, busy };
      });
      for (const a of agents) a.destroy();
      await sup.stop();
      if (!settled.ok)
        throw new Error(`${settled.busy} requests of the closed clients still unanswered after ${h.TIMEOUT} ms`);
    })();
    return finished;
  };
  t.after(finish);
  return {
    port,
    sup,
    clients,
    finish,
    agent(options = {}) {
      const agent = new http.Agent({ keepAlive: true, ...options });
      agents.push(agent);
      return agent;
    },
    // `count` sessions, `batch` handshakes at a time; resolves once all are connected.
    async connect(count, options = {}, { batch = 100, name = 'client' } = {}) {
      const made = [];
      for (let i = 0; i < count; i += batch) {
        const wave = [];
        for (let j = i; j < Math.min(count, i + batch); j++) {
          const client = new Client(port, `${name} ${j}`, typeof options === 'function' ? options(j) : options);
          clients.push(client);
          wave.push(client);
        }
        await Promise.all(wave.map((c) => c.connected()));
        made.push(...wave);
      }
      return made;
    },
    serverUnknown(from = 0) {
      const lines = sup.log.lines.slice(from).filter((l) => UNKNOWN_LINE.test(l));
      // Each one is in the test's output: which request, on which worker, got it.
      for (const line of lines) t.diagnostic(line);
      for (const line of sup.log.lines.slice(from).filter((l) => LATE_LINE.test(l))) t.diagnostic(line);
      return lines.length;
    },
  };
}

const sum = (clients, f) => clients.reduce((n, c) => n + f(c), 0);

// What went wrong across `clients`, for one deepEqual.
function troubles(clients) {
  return {
    unknownSession: sum(clients, (c) => c.unknownSession),
    connectErrors: clients.flatMap((c) => c.connectErrors),
    disconnects: clients.flatMap((c) => c.disconnects),
    upgradeErrors: clients.flatMap((c) => c.upgradeErrors),
  };
}
const NO_TROUBLE = { unknownSession: 0, connectErrors: [], disconnects: [], upgradeErrors: [] };

// The slot the master sends a session's requests to under {query: sid} / {cookie: io}: its
// id as the client sends it back (percent-encoded).
const slotOfSid = (sid) => slotForKey(encodeURIComponent(sid), WORKERS) + 1;

// Every session asks where it lives, once right after connecting and once on WebSocket;
// the answers agree with the session's id, its slot by the master's rule, and each other.
async function checkSessions(clients) {
  const first = await Promise.all(clients.map((c) => c.ask('whoami')));
  await Promise.all(clients.map((c) => c.upgraded()));
  const second = await Promise.all(clients.map((c) => c.ask('whoami')));
  clients.forEach((c, i) => {
    assert.equal(first[i].sid, c.engine.id, `${c.name}: the server's session is the client's`);
    assert.equal(first[i].slot, slotOfSid(c.engine.id), `${c.name}: its id hashes to the worker that holds it`);
    const session = ({ slot, pid, generation, sid }) => ({ slot, pid, generation, sid });
    assert.deepEqual(session(second[i]), session(first[i]), `${c.name}: the same session and worker after the upgrade`);
    assert.equal(second[i].transport, 'websocket', `${c.name}: upgraded`);
  });
  return second;
}

// How many connections reached the workers as hand-backs from another worker (a kept
// connection carrying another session's request), from the workers' latest answers.
function carried(answers) {
  const byPid = new Map();
  for (const a of answers) byPid.set(a.pid, Math.max(byPid.get(a.pid) ?? 0, a.carried));
  return `connections handed back between workers: ${[...byPid.values()].reduce((n, v) => n + v, 0)}`;
}

function perSlot(answers) {
  const slots = new Map();
  for (const a of answers) slots.set(a.slot, (slots.get(a.slot) ?? 0) + 1);
  return slots;
}

test('{query: sid} + socketio(io): 500 sessions from one address over one keep-alive agent, 4 workers, none gets "Session ID unknown"', { timeout: 180000 }, async (t) => {
  const s = await setUp(t);
  const agent = s.agent();
  const clients = await s.connect(500, { agent });
  const answers = await checkSessions(clients);
  const slots = perSlot(answers);
  assert.equal(slots.size, WORKERS, `sessions in every worker: ${JSON.stringify([...slots])}`);
  // Messages both ways on every session, now over WebSocket.
  const echoes = await Promise.all(clients.map((c, i) => c.ask('echo', `hello ${i}`)));
  echoes.forEach((e, i) => assert.equal(e.bytes, `hello ${i}`.length));
  assert.deepEqual(troubles(clients), NO_TROUBLE);
  await s.finish();
  assert.equal(s.serverUnknown(), 0, '"Session ID unknown" answered by engine.io');
  t.diagnostic(`sessions per slot: ${JSON.stringify(Object.fromEntries(slots))}; ${carried(echoes)}`);
});

test('{cookie: io} + socketio(io) with socket.io\'s cookie option: sessions routed by the io cookie', { timeout: 120000 }, async (t) => {
  const s = await setUp(t, { policy: '{cookie: io}', env: { SOCKETIO_COOKIE: '1' } });
  const agent = s.agent();
  // withCredentials: engine.io-client keeps cookies (a jar per session) and sends them back.
  const clients = await s.connect(100, { agent, withCredentials: true });
  const slots = perSlot(await checkSessions(clients));
  assert.equal(slots.size, WORKERS, `sessions in every worker: ${JSON.stringify([...slots])}`);
  assert.deepEqual(troubles(clients), NO_TROUBLE);
  await s.finish();
  assert.equal(s.serverUnknown(), 0, '"Session ID unknown" answered by engine.io');
});

test('{query: sid} + socketio(io) with the app\'s own generateId, ids the client percent-encodes', { timeout: 120000 }, async (t) => {
  const s = await setUp(t, { env: { SOCKETIO_IDS: 'base64' } });
  const agent = s.agent();
  const clients = await s.connect(100, { agent });
  await checkSessions(clients);
  for (const c of clients) assert.match(c.engine.id, /^id\+\//, 'the app\'s id, which the client sends as id%2B%2F...');
  assert.deepEqual(troubles(clients), NO_TROUBLE);
  await s.finish();
  assert.equal(s.serverUnknown(), 0, '"Session ID unknown" answered by engine.io');
});

test('without socketio(io), {query: sid} sends later requests to other workers: "Session ID unknown" (what the helper fixes)', { timeout: 120000 }, async (t) => {
  const s = await setUp(t, { env: { SOCKETIO_ROUTED: '0' } });
  const agent = s.agent();
  const options = { agent, reconnection: false };
  const clients = Array.from({ length: 20 }, (_, i) => new Client(s.port, `client ${i}`, options));
  s.clients.push(...clients);
  // Each ends connected or failed: bounded by the client's own timeout (20 s by default).
  await Promise.all(
    clients.map((c) =>
      Promise.race([once(c.socket, 'connect', 'connect'), once(c.socket, 'connect_error', 'connect_error')]),
    ),
  );
  await h.eventually(() => ({ ok: s.serverUnknown() > 0 }));
  assert.ok(s.serverUnknown() > 0, 'engine.io answered "Session ID unknown"');
  const seen = await h.eventually(() => {
    const n = sum(clients, (c) => c.unknownSession);
    return { ok: n > 0, n };
  });
  assert.ok(seen.n > 0, 'clients saw "Session ID unknown"');
});

test('a 1 MB message over long-polling (the polling upload) arrives whole in the session\'s worker', { timeout: 120000 }, async (t) => {
  const s = await setUp(t);
  const agent = s.agent();
  // Polling only, so that the message is surely a long-polling POST (the default client
  // would upgrade to WebSocket within moments).
  const clients = await s.connect(8, { agent, transports: ['polling'] });
  for (let round = 0; round < 2; round++) {
    const messages = clients.map(() => crypto.randomBytes(1 << 20));
    const echoes = await Promise.all(clients.map((c, i) => c.ask('echo', messages[i])));
    echoes.forEach((e, i) => {
      assert.equal(e.transport, 'polling');
      assert.equal(e.bytes, 1 << 20);
      assert.equal(e.sha256, crypto.createHash('sha256').update(messages[i]).digest('hex'));
      assert.equal(e.slot, slotOfSid(clients[i].engine.id));
    });
  }
  assert.deepEqual(troubles(clients), NO_TROUBLE);
  await s.finish();
  assert.equal(s.serverUnknown(), 0, '"Session ID unknown" answered by engine.io');
});

test('kill -9 of one worker: only its clients reconnect, the others keep their session', { timeout: 120000 }, async (t) => {
  const s = await setUp(t);
  const agent = s.agent();
  const clients = await s.connect(40, { agent });
  const before = await checkSessions(clients);
  const victimSlot = before[0].slot;
  const victimPid = before[0].pid;
  const victims = clients.filter((_, i) => before[i].pid === victimPid);
  const others = clients.filter((_, i) => before[i].pid !== victimPid);
  assert.ok(others.length > 0, 'sessions in other workers');
  const sidsBefore = new Map(clients.map((c) => [c, c.engine.id]));
  const mark = s.sup.log.mark();

  process.kill(victimPid, 'SIGKILL');
  await s.sup.log.waitFor(new RegExp(`event=ready app=sio slot=${victimSlot} pid=\\d+ generation=2 `), { from: mark });
  await Promise.all(victims.map((c) => c.connectedTimes(2)));

  const after = await Promise.all(clients.map((c) => c.ask('whoami')));
  clients.forEach((c, i) => {
    if (victims.includes(c)) {
      assert.notEqual(after[i].pid, victimPid, `${c.name}: in a live worker`);
      assert.notEqual(c.engine.id, sidsBefore.get(c), `${c.name}: a new session`);
      assert.equal(after[i].slot, slotOfSid(c.engine.id));
      assert.deepEqual(c.disconnects, ['transport close'], c.name);
    } else {
      assert.equal(after[i].pid, before[i].pid, `${c.name}: the same worker`);
      assert.equal(c.engine.id, sidsBefore.get(c), `${c.name}: the same session`);
      assert.equal(c.connects, 1, c.name);
    }
  });
  assert.deepEqual(troubles(others), NO_TROUBLE);
  assert.deepEqual(
    { ...troubles(victims), disconnects: [] },
    NO_TROUBLE,
    'the victims reconnected without errors',
  );
  await s.finish();
  assert.equal(s.serverUnknown(), 0, '"Session ID unknown" answered by engine.io');
  t.diagnostic(`killed slot ${victimSlot}: ${victims.length} of ${clients.length} sessions reconnected`);
});

test('a rolling reload (SIGHUP, changed env): every client reconnects to the new workers and goes on', { timeout: 180000 }, async (t) => {
  const s = await setUp(t, { env: { VERSION: '1' } });
  const agent = s.agent();
  const clients = await s.connect(40, { agent });
  const before = await checkSessions(clients);
  const oldPids = new Set(before.map((a) => a.pid));
  const mark = s.sup.log.mark();

  fs.writeFileSync(s.sup.file, socketioConfig(s.port, { env: { VERSION: '2' } }));
  s.sup.child.kill('SIGHUP');
  await s.sup.log.waitFor(/event=reload_done app=sio/, { from: mark, timeout: 60000 });
  // The drain handler (io.close()) ends the old workers' sessions, so each old worker
  // exits by itself, cleanly, long before drain_timeout (30 s: then the SDK would exit
  // with code 0 too, which is why the time is what shows it).
  const time = (line) => Date.parse(/^ts=(\S+)/.exec(line)[1]);
  const drainMs = [];
  for (let slot = 1; slot <= WORKERS; slot++) {
    const event = (name, pid) => new RegExp(`^ts=\\S+ event=${name} app=sio slot=${slot} pid=${pid} generation=1 .*`);
    const drain = await s.sup.log.waitFor(event('drain', '(\\d+)'), { from: mark });
    const exit = await s.sup.log.waitFor(event('exit', drain[1]), { from: mark });
    assert.ok(oldPids.has(Number(drain[1])));
    assert.match(exit[0], / status="exit code 0"/);
    drainMs.push(time(exit[0]) - time(drain[0]));
    assert.ok(drainMs.at(-1) < 10000, `slot ${slot} drained in ${drainMs.at(-1)} ms`);
  }
  // Every client is back (perhaps after a stop in a worker that was about to roll).
  const after = await h.eventually(async () => {
    const ask = (c) => (c.socket.connected ? c.ask('whoami').catch(() => null) : null);
    const answers = await Promise.all(clients.map(ask));
    return { ok: answers.every((a) => a && a.generation === 2), answers };
  }, { timeout: 60000, interval: 200 });
  const behind = after.answers.filter((a) => !a || a.generation !== 2);
  assert.ok(after.ok, `every client in a new worker: ${JSON.stringify(behind)}`);
  clients.forEach((c, i) => {
    assert.ok(!oldPids.has(after.answers[i].pid), c.name);
    assert.equal(after.answers[i].slot, slotOfSid(c.engine.id), c.name);
    assert.ok(c.connects >= 2, `${c.name} reconnected`);
    // A session ends with its worker: engine.io's close reaches the client ('transport
    // close'). The one other ending is the race counted below: a POST already in flight
    // when its worker retired reaches the successor in the same slot, which answers
    // "Session ID unknown" (400), and engine.io-client reports that as 'transport error'.
    // Anything else (a timeout, a reset, a 5xx) fails.
    const expected = (reason, i) =>
      reason === 'transport close' ||
      (reason === 'transport error' && /Session ID unknown/.test(c.disconnectDetails[i] ?? ''));
    assert.ok(c.disconnects.every(expected), `${c.name}: ${c.disconnects} (${c.disconnectDetails.join('; ')})`);
  });
  const echoes = await Promise.all(clients.map((c, i) => c.ask('echo', `after ${i}`)));
  echoes.forEach((e, i) => assert.equal(e.bytes, `after ${i}`.length));
  const { unknownSession, connectErrors, upgradeErrors } = troubles(clients);
  // Counted, not required to be 0: a request in flight while its worker retires may meet
  // the successor. Every client above came back and went on.
  await s.finish();
  t.diagnostic(
    `drains took ${drainMs.join(', ')} ms; reconnects: ${sum(clients, (c) => c.connects - 1)} ` +
      `for ${clients.length} clients; connect errors: ${connectErrors.length}; "Session ID unknown": ` +
      `${unknownSession} (clients), ${s.serverUnknown(mark)} (engine.io); upgrade errors: ${upgradeErrors.length}`,
  );
});

test('scaling 4 → 8 → 3 workers: sessions keep their worker, new ones land in the new slots', { timeout: 180000 }, async (t) => {
  const s = await setUp(t);
  // A keep-alive agent per client (each browser has its own connections), and polling
  // only, so that every request of a session is routed again by its id (a WebSocket stays
  // on its connection whatever the count).
  const own = () => ({ agent: s.agent(), transports: ['polling'] });
  const early = await s.connect(40, own, { name: 'early' });
  const before = await Promise.all(early.map((c) => c.ask('whoami')));
  const sessionOf = (a) => `${a.pid}/${a.sid}`;

  let mark = s.sup.log.mark();
  fs.writeFileSync(s.sup.file, socketioConfig(s.port, { workers: 8 }));
  // --config-only: the sessions' workers stay (a plain reload would roll them all).
  assert.equal((await h.cli(s.sup, ['reload', '--config-only'])).code, 0);
  for (let slot = 5; slot <= 8; slot++) {
    await s.sup.log.waitFor(new RegExp(`event=ready app=sio slot=${slot} `), { from: mark });
  }
  // The workers of slots 1 to 4 still know 4 workers (their welcome): their ids were drawn
  // for up to maxWorkers (16 by default), which is what keeps them right.
  const late = await s.connect(80, own, { name: 'late' });
  const grown = await Promise.all([...early, ...late].map((c) => c.ask('whoami')));
  early.forEach((c, i) => assert.equal(sessionOf(grown[i]), sessionOf(before[i]), `${c.name}: the same session`));
  const slotAmong8 = (c) => slotForKey(encodeURIComponent(c.engine.id), 8) + 1;
  late.forEach((c, i) => assert.equal(grown[early.length + i].slot, slotAmong8(c), c.name));
  const newSlots = late.filter((_, i) => grown[early.length + i].slot > 4).length;
  assert.ok(newSlots > 0, 'sessions in the new slots');
  assert.deepEqual(troubles([...early, ...late]), NO_TROUBLE);

  mark = s.sup.log.mark();
  fs.writeFileSync(s.sup.file, socketioConfig(s.port, { workers: 3 }));
  assert.equal((await h.cli(s.sup, ['reload', '--config-only'])).code, 0);
  for (let slot = 4; slot <= 8; slot++) {
    await s.sup.log.waitFor(new RegExp(`event=exit app=sio slot=${slot} `), { from: mark });
  }
  const all = [...early, ...late];
  const moved = all.filter((_, i) => grown[i].slot > 3);
  await Promise.all(moved.map((c) => c.connectedTimes(2)));
  const shrunk = await Promise.all(all.map((c) => c.ask('whoami')));
  all.forEach((c, i) => {
    assert.ok(shrunk[i].slot <= 3, c.name);
    if (grown[i].slot <= 3) {
      assert.equal(sessionOf(shrunk[i]), sessionOf(grown[i]), `${c.name}: the same session`);
      assert.equal(c.connects, 1, c.name);
    } else {
      assert.deepEqual(c.disconnects, ['transport close'], `${c.name}: closed by the drain, reconnected`);
    }
  });
  assert.deepEqual({ ...troubles(all), disconnects: [] }, NO_TROUBLE);
  await s.finish();
  assert.equal(s.serverUnknown(), 0, '"Session ID unknown" answered by engine.io');
  t.diagnostic(`${newSlots} of ${late.length} new sessions in slots 5-8; ${moved.length} sessions moved on scale-down`);
});

test('{query: room}: a room\'s members meet in one worker and a broadcast reaches them all, without an adapter', { timeout: 120000 }, async (t) => {
  const s = await setUp(t, { policy: '{query: room}', missingKey: '404', env: { SOCKETIO_ROUTED: '0' } });
  const agent = s.agent();
  const ROOMS = Array.from({ length: 12 }, (_, i) => `room-${i}`);
  const MEMBERS = 5;
  // engine.io-client sends `query` with every request of the session, upgrade included.
  const clients = await s.connect(ROOMS.length * MEMBERS, (i) => ({ agent, query: { room: ROOMS[i % ROOMS.length] } }));
  await Promise.all(clients.map((c) => c.upgraded()));
  const answers = await Promise.all(clients.map((c) => c.ask('whoami')));
  const roomOf = (i) => ROOMS[i % ROOMS.length];
  const pidOfRoom = new Map();
  answers.forEach((a, i) => {
    const room = roomOf(i);
    assert.equal(a.slot, slotForKey(room, WORKERS) + 1, `${room}: the slot its name hashes to`);
    if (!pidOfRoom.has(room)) pidOfRoom.set(room, a.pid);
    assert.equal(a.pid, pidOfRoom.get(room), `${room}: every member in one worker`);
  });
  assert.ok(new Set(pidOfRoom.values()).size > 1, 'rooms spread over workers');

  for (const room of ROOMS) {
    const members = clients.filter((_, i) => roomOf(i) === room);
    const pred = (m) => m.room === room;
    const arrivals = members.map((c) => once(c.socket, 'shout', `${c.name}: the shout in ${room}`, { pred }));
    await members[0].ask('shout', room, `hello ${room}`);
    const got = await Promise.all(arrivals);
    for (const [message] of got) assert.equal(message.text, `hello ${room}`);
  }
  // Nobody heard another room's shout.
  clients.forEach((c, i) => assert.ok(c.received.every((m) => m.room === roomOf(i)), c.name));
  assert.deepEqual(troubles(clients), NO_TROUBLE);
  await s.finish();
  assert.equal(s.serverUnknown(), 0, '"Session ID unknown" answered by engine.io');
});

test('ip_hash: clients from several loopback addresses each stay in their address\'s worker', { timeout: 120000 }, async (t) => {
  const s = await setUp(t, { policy: 'ip_hash', missingKey: null, env: { SOCKETIO_ROUTED: '0' } });
  const ADDRESSES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);
  const PER_ADDRESS = 5;
  // One keep-alive agent per address: http.Agent passes localAddress to every socket.
  const agents = ADDRESSES.map((localAddress) => s.agent({ localAddress }));
  const clients = await s.connect(ADDRESSES.length * PER_ADDRESS, (i) => ({ agent: agents[i % ADDRESSES.length] }));
  await Promise.all(clients.map((c) => c.upgraded()));
  const answers = await Promise.all(clients.map((c) => c.ask('whoami')));
  const pidOfAddress = new Map();
  answers.forEach((a, i) => {
    const address = ADDRESSES[i % ADDRESSES.length];
    if (!pidOfAddress.has(address)) pidOfAddress.set(address, a.pid);
    assert.equal(a.pid, pidOfAddress.get(address), `${address}: one worker`);
    assert.equal(a.transport, 'websocket');
  });
  assert.ok(new Set(pidOfAddress.values()).size > 1, 'addresses spread over workers');
  assert.deepEqual(troubles(clients), NO_TROUBLE);
  await s.finish();
  assert.equal(s.serverUnknown(), 0, '"Session ID unknown" answered by engine.io');
});
