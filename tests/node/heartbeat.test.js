'use strict';
// The `stats` heartbeat: sent at once on a welcome with heartbeat_ms > 0, then every
// heartbeat_ms, from the main event loop (a hung loop goes silent, and the supervisor
// replaces the worker).

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const { SCRIPTS, startWorker, request, waitFor } = require('./helpers');

const WELCOME = { app: 'hello', slot: 1, workers: 1, generation: 1 };
const isStats = (m) => m && m.handoff === 'stats';

// The stats messages so far, with when each arrived (the test process's clock).
function statsLog(master) {
  const { messages, arrivals } = master.child;
  return messages.map((m, i) => ({ m, at: arrivals[i] })).filter((entry) => isStats(entry.m));
}

// Resolves with the first stats message, seen or to come, that satisfies pred.
function nextStats(master, pred, what) {
  const seen = master.messages.find((m) => isStats(m) && pred(m));
  if (seen) return Promise.resolve(seen);
  return waitFor(master.child, 'message', { pred: (m) => isStats(m) && pred(m), child: master.child, what }).then(
    ([m]) => m,
  );
}

test('stats come at once, then about every heartbeat_ms, and count requests, connections and bytes', { timeout: 30000 }, async (t) => {
  const HEARTBEAT_MS = 200;
  const master = await startWorker(t, SCRIPTS.hello, { welcome: { ...WELCOME, heartbeat_ms: HEARTBEAT_MS } });
  const first = await nextStats(master, () => true, 'the first stats');
  assert.deepEqual(Object.keys(first).sort(), ['bytes', 'connections', 'handoff', 'requests', 'rss', 'v']);
  assert.equal(first.v, 1);
  assert.equal(first.requests, 0);
  assert.equal(first.connections, 0);
  assert.equal(first.bytes, 0);
  assert.ok(Number.isInteger(first.rss) && first.rss > 1e6, `rss ${first.rss}`);

  // Three requests on one keep-alive connection: requests 3, connections 1.
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  for (let i = 0; i < 3; i++) assert.equal((await request(master.port, { agent })).status, 200);
  const busy = await nextStats(master, (m) => m.requests === 3, 'stats with requests 3');
  assert.equal(busy.connections, 1);
  // Three whole responses, headers included, on the socket still open.
  assert.ok(busy.bytes > 3 * 'Hello, world!'.length, `bytes ${busy.bytes}`);

  // One more, on a second connection that stays open too.
  const other = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => other.destroy());
  await request(master.port, { agent: other });
  const two = await nextStats(master, (m) => m.requests === 4, 'stats with requests 4');
  assert.equal(two.connections, 2);

  // Both connections closed by their clients: connections back to 0, requests stay.
  agent.destroy();
  other.destroy();
  const idle = await nextStats(master, (m) => m.requests === 4 && m.connections === 0, 'stats with 0 connections');
  assert.equal(idle.requests, 4);
  // The closed sockets' bytes are kept: four responses of one size.
  assert.equal(idle.bytes, (busy.bytes / 3) * 4);

  // Cadence: no interval much shorter than heartbeat_ms (timers never fire early; the
  // IPC may bunch two a little), and on average not far off it (a busy machine lags).
  await nextStats(master, () => statsLog(master).length >= 8, 'eight stats');
  const log = statsLog(master);
  const gaps = log.slice(1).map((entry, i) => entry.at - log[i].at);
  // The first comes at once on the welcome, so the first gap is a full period too.
  assert.ok(Math.min(...gaps) >= HEARTBEAT_MS * 0.5, `gaps ${gaps.map(Math.round)}`);
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  assert.ok(mean >= HEARTBEAT_MS * 0.8 && mean <= HEARTBEAT_MS * 3, `mean gap ${mean} ms; gaps ${gaps.map(Math.round)}`);
  // Counters never go backwards.
  for (let i = 1; i < log.length; i++) assert.ok(log[i].m.requests >= log[i - 1].m.requests);
});

test('no heartbeat_ms, or 0: no stats; a later welcome can turn them on', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.hello, { welcome: WELCOME }); // no heartbeat_ms
  master.child.send({ handoff: 'welcome', v: 1, ...WELCOME, heartbeat_ms: 0 });
  // A request served proves the worker has handled both welcomes (the channel is ordered
  // and the socket came after them).
  await request(master.port, { headers: { connection: 'close' } });
  // A heartbeat far longer than the test: exactly one stats, the immediate one. Had either
  // earlier welcome started heartbeats, an immediate stats of theirs would come first.
  master.child.send({ handoff: 'welcome', v: 1, ...WELCOME, heartbeat_ms: 3600000 });
  const stats = await master.waitMessage(isStats, 'the stats on the third welcome');
  assert.equal(stats.requests, 1);
  assert.equal(master.messages.filter(isStats).length, 1);
});

test('a blocked event loop stops the heartbeat for as long as it is blocked', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.echo, { welcome: { ...WELCOME, heartbeat_ms: 50 } });
  await nextStats(master, () => statsLog(master).length >= 3, 'three stats');
  const res = await request(master.port, { path: '/block?ms=800', headers: { connection: 'close' } });
  assert.equal(res.body.toString(), 'unblocked');
  await nextStats(master, (m) => m.requests === 1, 'stats after the block');
  const log = statsLog(master);
  const gaps = log.slice(1).map((entry, i) => entry.at - log[i].at);
  assert.ok(Math.max(...gaps) >= 700, `gaps ${gaps.map(Math.round)}`);
});
