'use strict';
// The output cache (docs/cache.md): the master answers requests whose response a worker
// marked cacheable, without waking a worker. Real supervisor, real Node SDK workers
// (tests/apps/cache-app.js counts what reaches them), real sockets.
const test = require('node:test');
const assert = require('node:assert');
const net = require('node:net');
const path = require('node:path');
const h = require('./helpers');

const APP = path.join(h.ROOT, 'tests/apps/cache-app.js');

function cluster(port, { workers = 1, cache = '{}' } = {}) {
  return `listeners:
  - address: 127.0.0.1:${port}
apps:
  - name: cached
    command: [${JSON.stringify(h.NODE)}, ${JSON.stringify(APP)}]
    workers: ${workers}
    cache: ${cache}
`;
}

async function start(t, options) {
  const port = await h.freePort();
  const sup = await h.startApps(t, cluster(port, options), { cached: options?.workers ?? 1 });
  return { port, sup };
}

// Waits (bounded) until a request gets its answer from the cache: a worker's cache_put
// follows its answer, so the next request may still reach the worker.
async function cachedSoon(options) {
  const last = await h.eventually(async () => {
    const r = await h.request(options);
    return { ok: r.headers.age !== undefined, r };
  });
  assert.ok(last.ok, `${options.path}: never answered from the cache (last: ${JSON.stringify(last.r.headers)})`);
  return last.r;
}

// How many requests for `target` the workers served (one worker: its own count).
async function served(port, target, method = 'GET') {
  const r = await h.request({ port, method, path: `/count?target=${encodeURIComponent(target)}` });
  return Number(r.body);
}

test('a marked response reaches the worker once; the next are answered by the master with Age', async (t) => {
  const { port } = await start(t);
  const first = await h.request({ port, path: '/cached' });
  assert.strictEqual(first.status, 200);
  assert.strictEqual(first.body, '/cached #1');
  // The worker's cache_put comes after its answer: wait until the master stored it.
  await cachedSoon({ port, path: '/cached' });
  for (let i = 0; i < 5; i++) {
    const r = await h.request({ port, path: '/cached' });
    assert.strictEqual(r.status, 200);
    assert.strictEqual(r.body, '/cached #1');
    assert.match(r.headers.age, /^\d+$/);
    assert.strictEqual(r.headers['cache-control'], 'public, max-age=60');
    assert.strictEqual(r.headers['content-type'], 'text/plain');
    assert.ok(r.headers.date);
  }
  assert.ok((await served(port, '/cached')) <= 2, 'served twice by the worker at most');
  // res.cacheDuration (httpsys's name) marks a response too.
  await h.request({ port, path: '/duration' });
  await cachedSoon({ port, path: '/duration' });
  assert.ok((await served(port, '/duration')) <= 2);
});

test('private, Set-Cookie, Authorization and POST are never cached', async (t) => {
  const { port } = await start(t);
  const cases = [
    { path: '/private' },
    { path: '/cookie' },
    { path: '/cached?auth', headers: { authorization: 'Basic YTpi' } },
    { path: '/cached?post', method: 'POST', body: 'x' },
  ];
  for (const c of cases) {
    for (let i = 1; i <= 4; i++) {
      const r = await h.request({ port, ...c });
      assert.strictEqual(r.status, 200);
      assert.strictEqual(r.headers.age, undefined, `${c.path}: not from the cache`);
      assert.ok(r.body.endsWith(`#${i}`), `${c.path} request ${i} reached the worker: ${r.body}`);
    }
  }
});

test('an entry expires with its max-age; HEAD is answered from the GET entry', async (t) => {
  const { port } = await start(t);
  await h.request({ port, path: '/short' });
  await cachedSoon({ port, path: '/short' });
  const head = await h.request({ port, path: '/short', method: 'HEAD' });
  assert.strictEqual(head.status, 200);
  assert.strictEqual(head.body, '');
  assert.ok(head.headers.age !== undefined, 'HEAD answered from the cache');
  assert.strictEqual(Number(head.headers['content-length']), '/short #1'.length);
  // max-age=1: within a bounded wait the worker is asked again.
  const refreshed = await h.eventually(async () => ({ ok: (await h.request({ port, path: '/short' })).body !== '/short #1' }));
  assert.ok(refreshed.ok, 'the worker was asked again once max-age passed');
});

test('stale_while_revalidate: past max-age the entry still answers while one request refreshes it', async (t) => {
  const { port } = await start(t, { cache: '{stale_while_revalidate: 30s}' });
  // max-age=2; each GET is answered when the test releases it.
  const target = '/cached?maxage=2&hold';
  const release = async () => assert.strictEqual((await h.request({ port, path: `/release?target=${encodeURIComponent(target)}` })).body, 'released');
  const reached = async (count) => {
    const seen = await h.eventually(async () => ({ ok: (await served(port, target)) === count }));
    assert.ok(seen.ok, `request ${count} for ${target} reached the worker`);
  };
  const fill = h.request({ port, path: target });
  await reached(1);
  await release();
  const first = (await fill).body;
  // A HEAD neither leads a fill nor waits for one: answered with Age once the entry is
  // stored; then, reaching the worker (no Age), it says the entry is stale now, and still
  // kept (30 s of grace).
  const stored = await h.eventually(async () => ({
    ok: (await h.request({ port, path: target, method: 'HEAD' })).headers.age !== undefined,
  }));
  assert.ok(stored.ok, 'the entry was stored');
  const expired = await h.eventually(async () => ({
    ok: (await h.request({ port, path: target, method: 'HEAD' })).headers.age === undefined,
  }));
  assert.ok(expired.ok, 'the entry expired');
  const before = await served(port, target);
  const refresh = h.request({ port, path: target });  // the first after expiry: to the worker
  await reached(before + 1);
  // Meanwhile (the worker holds its answer) the others get the stale entry at once.
  const meanwhile = await Promise.all(Array.from({ length: 5 }, () => h.request({ port, path: target })));
  for (const r of meanwhile) {
    assert.strictEqual(r.body, first);
    assert.ok(Number(r.headers.age) >= 1, `stale answer's Age ${r.headers.age}`);
  }
  assert.strictEqual(await served(port, target), before + 1, 'only the refresh reached the worker');
  await release();
  const refreshed = await refresh;
  assert.notStrictEqual(refreshed.body, first);
  const after = await h.eventually(async () => {
    const r = await h.request({ port, path: target, method: 'HEAD' });
    return { ok: r.headers.age !== undefined && Number(r.headers['content-length']) === refreshed.body.length };
  });
  assert.ok(after.ok, 'the refreshed answer is stored');
});

test('a worker killed while it holds a fill: the requests waiting for that key go on at once, not at lock_timeout', async (t) => {
  // lock_timeout (60 s) is longer than a request may take here (helpers' TIMEOUT).
  const { port, sup } = await start(t, { cache: '{lock_timeout: 60s}' });
  const target = '/cached?hold';
  const release = async () => assert.strictEqual((await h.request({ port, path: `/release?target=${encodeURIComponent(target)}` })).body, 'released');
  // POSTs here, which the cache never looks up: the only misses are the test's GETs.
  const reached = async (count) => {
    const seen = await h.eventually(async () => ({ ok: (await served(port, target, 'POST')) === count }));
    assert.ok(seen.ok, `request ${count} for ${target} reached the worker`);
  };
  const misses = async () => JSON.parse((await h.cli(sup, ['status', '--json'])).stdout).slots.find((s) => s.app === 'cached').cache.misses;
  const pid = Number((await h.request({ port, path: '/private', method: 'POST' })).headers['x-worker-pid']);
  const fill = h.request({ port, path: target }).then(() => 'answered', (e) => e.message);
  await reached(1);
  const waiting = Array.from({ length: 5 }, () => h.request({ port, path: target }));
  // The fill's miss and theirs (the scoreboard's counts are published a little later).
  const held = await h.eventually(async () => ({ ok: (await misses()) === 6 }));
  assert.ok(held.ok, 'the 5 requests wait for the fill in the master');
  process.kill(pid, 'SIGKILL');
  assert.notStrictEqual(await fill, 'answered', 'the held request died with its worker');
  // The replacement gets one of them as the new fill (it holds it too, until released).
  await reached(1);
  await release();
  const answers = await Promise.all(waiting);
  for (const r of answers) {
    assert.strictEqual(r.status, 200);
    assert.strictEqual(r.body, '/cached #1');
  }
  assert.strictEqual(answers.filter((r) => r.headers.age === undefined).length, 1, 'one went to the new worker, 4 waited for it again');
});

test('supervisor cache purge empties the app (or a prefix); a reload that rolls the workers empties it', async (t) => {
  const { port, sup } = await start(t);
  for (const p of ['/cached', '/key/1']) {
    await h.request({ port, path: p });
    await cachedSoon({ port, path: p });
  }
  const purge = await h.cli(sup, ['cache', 'purge', 'cached', '/key/']);
  assert.strictEqual(purge.code, 0, purge.stderr);
  assert.match(purge.stdout, /1 entr/);
  assert.strictEqual((await h.request({ port, path: '/key/1' })).headers.age, undefined);
  assert.ok((await h.request({ port, path: '/cached' })).headers.age !== undefined, 'other keys stay');
  const all = await h.cli(sup, ['cache', 'purge']);
  assert.strictEqual(all.code, 0, `stdout: ${all.stdout} stderr: ${all.stderr}`);
  assert.strictEqual((await h.request({ port, path: '/cached' })).headers.age, undefined);
  await cachedSoon({ port, path: '/cached' });
  const reload = await h.cli(sup, ['reload']);
  assert.strictEqual(reload.code, 0, reload.stderr);
  assert.strictEqual((await h.request({ port, path: '/cached' })).headers.age, undefined, 'emptied by the roll');
});

test('Vary: Accept-Encoding keeps one entry per encoding', async (t) => {
  const { port } = await start(t);
  for (const enc of ['gzip', 'br', '']) {
    const headers = enc ? { 'accept-encoding': enc } : {};
    const first = await h.request({ port, path: '/vary', headers });
    assert.ok(first.body.startsWith(`enc=${enc} `), first.body);
    await cachedSoon({ port, path: '/vary', headers });
  }
  for (const enc of ['gzip', 'br', '']) {
    const r = await h.request({ port, path: '/vary', headers: enc ? { 'accept-encoding': enc } : {} });
    assert.ok(r.headers.age !== undefined);
    assert.ok(r.body.startsWith(`enc=${enc} `), `${enc}: ${r.body}`);
  }
});

test('100 concurrent misses for one key reach the worker once (coalescing)', async (t) => {
  const { port } = await start(t);
  const target = '/slow-cached?ms=300';
  const answers = await Promise.all(Array.from({ length: 100 }, () => h.request({ port, path: target })));
  for (const r of answers) {
    assert.strictEqual(r.status, 200);
    assert.strictEqual(r.body, '/slow-cached #1');
  }
  assert.strictEqual(await served(port, target), 1);
});

// Requests written one after another on one socket (with the Host that http.request sends,
// which is part of the cache's key); resolves with the raw answers' text.
function keepAlive(port, requests) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let next = 0;
    const answers = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`keep-alive: ${answers.length} of ${requests.length} answers; got ${JSON.stringify(text)}`));
    }, h.TIMEOUT);
    const send = () => socket.write(`GET ${requests[next++]} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    socket.setEncoding('latin1');
    socket.on('connect', send);
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      text += chunk;
      for (;;) {
        const end = text.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
        if (text.length < end + 4 + length) return;
        answers.push({ head: text.slice(0, end), body: text.slice(end + 4, end + 4 + length) });
        text = text.slice(end + 4 + length);
        if (answers.length === requests.length) {
          clearTimeout(timer);
          socket.end();
          return resolve(answers);
        }
        send();
      }
    });
  });
}

test('a keep-alive connection alternating hits and misses gets every answer right and in order', async (t) => {
  const { port } = await start(t);
  await h.request({ port, path: '/cached' });
  await cachedSoon({ port, path: '/cached' });
  const requests = [];
  for (let i = 0; i < 20; i++) requests.push(i % 2 ? `/private?${i}` : '/cached');
  const answers = await keepAlive(port, requests);
  // The hits before the first miss are the master's (the stored answer, with Age); after
  // it the worker holds the socket and answers both kinds itself, each in its turn.
  assert.match(answers[0].head, /\r\nAge: \d+/);
  assert.strictEqual(answers[0].body, '/cached #1');
  answers.forEach((a, i) => {
    if (i % 2) assert.strictEqual(a.body, '/private #1', `answer ${i}`);
    else assert.match(a.body, /^\/cached #\d+$/, `answer ${i}`);
  });
});

test('memory stays within max_size under 10,000 distinct keys', async (t) => {
  const { port, sup } = await start(t, { cache: '{max_size: 1MiB, max_entry: 64KiB}' });
  for (let i = 0; i < 10000; i += 50)
    await Promise.all(Array.from({ length: 50 }, (_, j) => h.request({ port, path: `/key/${i + j}` })));
  // The counters reach the scoreboard each second: wait until they show the 10,000 stores.
  const shown = await h.eventually(async () => {
    const status = await h.cli(sup, ['status']);
    const m = /cache [\d.]+% hits \(\d+ of (\d+)\), (\d+) entries, (\d+) bytes/.exec(status.stdout);
    return { ok: m !== null && Number(m[1]) >= 10000, m, text: status.stdout };
  });
  assert.ok(shown.ok, shown.text);
  const [, , entries, bytes] = shown.m.map(Number);
  assert.ok(bytes <= 1024 * 1024, shown.text);
  assert.ok(entries > 100 && entries < 10000, shown.text);  // the oldest went to make room
});

// C++ SDK workers (examples/hello-cpp: GET /cached is marked public, max-age=60), with the
// master peeking heads and, as on Windows, reading them (HANDOFF_CLASSIFY_BY_READING=1).
for (const reading of [false, true]) {
  test(`hello-cpp${reading ? ', heads read' : ''}: hits with Age on new and keep-alive connections, HEAD, Connection: close`, async (t) => {
    const port = await h.freePort();
    const yaml = h.config({ port, command: [h.HELLO_CPP], workers: 2, extra: '    cache: {}\n' });
    const sup = await h.startSupervisor(yaml, { ready: 2, env: reading ? { HANDOFF_CLASSIFY_BY_READING: '1' } : {} });
    t.after(() => sup.stop());
    const first = await h.request({ port, path: '/cached' });
    assert.strictEqual(first.body, 'Hello, world!');
    assert.strictEqual(first.headers.age, undefined);
    await cachedSoon({ port, path: '/cached' });
    const closing = await h.request({ port, path: '/cached', headers: { connection: 'close' } });
    assert.strictEqual(closing.headers.connection, 'close');
    assert.strictEqual(closing.body, 'Hello, world!');
    const head = await h.request({ port, path: '/cached', method: 'HEAD' });
    assert.ok(head.headers.age !== undefined);
    assert.strictEqual(head.body, '');
    // Hits, then a miss the worker answers, on one connection, in order.
    const answers = await keepAlive(port, ['/cached', '/cached', '/pid', '/cached']);
    assert.match(answers[0].head, /\r\nAge: \d+/);
    assert.match(answers[1].head, /\r\nAge: \d+/);
    assert.match(answers[2].body, /^\d+$/);
    // The worker holds the connection after its miss: it answers the hit from the shared table.
    assert.match(answers[3].head, /\r\nAge: \d+/);
    assert.strictEqual(answers[3].body, 'Hello, world!');
    // Pipelined: two hits and a miss written at once are answered in order.
    const pipelined = await new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (c) => (text += c));
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
      const host = `Host: 127.0.0.1:${port}\r\n`;
      socket.write(`GET /cached HTTP/1.1\r\n${host}\r\nHEAD /cached HTTP/1.1\r\n${host}\r\nGET /pid HTTP/1.1\r\n${host}Connection: close\r\n\r\n`);
    });
    const statuses = pipelined.match(/HTTP\/1\.1 200 OK/g) ?? [];
    assert.strictEqual(statuses.length, 3, pipelined);
    assert.match(pipelined, /Hello, world!HTTP\/1\.1 200 OK[^]*Age: \d+[^]*\r\n\r\nHTTP\/1\.1 200 OK[^]*\r\n\r\n\d+$/);
    const status = await h.cli(sup, ['status']);
    assert.strictEqual(status.code, 0);
    const shown = await h.eventually(async () => ({ ok: /app hello: cache \d/.test((await h.cli(sup, ['status'])).stdout) }));
    assert.ok(shown.ok, 'status shows the cache');
  });
}

test('hello-cpp: a keep-alive connection the cache answered closes quietly after the app\'s keep_alive_timeout', async (t) => {
  const port = await h.freePort();
  const extra = '    http: {keep_alive_timeout: 1s}\n    cache: {}\n';
  const yaml = h.config({ port, command: [h.HELLO_CPP], workers: 1, extra });
  const sup = await h.startSupervisor(yaml, { ready: 1 });
  t.after(() => sup.stop());
  await h.request({ port, path: '/cached' });
  await cachedSoon({ port, path: '/cached' });
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (c) => (text += c));
  await new Promise((resolve) => socket.on('connect', resolve));
  const answered = Date.now();
  const closed = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('still open after 10 s')), 10000);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - answered);
    });
  });
  socket.write(`GET /cached HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\nGET /cached HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
  const idleMs = await closed;
  assert.strictEqual((text.match(/\r\nAge: \d+/g) ?? []).length, 2, text);  // both hits, no 408
  assert.ok(idleMs >= 900, `closed after ${idleMs} ms, before the timeout`);
});

// One keep-alive connection driven a request at a time: ask(target) resolves with the raw
// answer ({head, body}); the test acts between answers.
function connection(port) {
  const socket = net.connect(port, '127.0.0.1');
  socket.setEncoding('latin1');
  let text = '';
  let waiter = null;
  const take = () => {
    const end = text.indexOf('\r\n\r\n');
    if (end < 0 || !waiter) return;
    const length = Number(/content-length: (\d+)/i.exec(text.slice(0, end))?.[1] ?? 0);
    if (text.length < end + 4 + length) return;
    const answer = { head: text.slice(0, end), body: text.slice(end + 4, end + 4 + length) };
    text = text.slice(end + 4 + length);
    const w = waiter;
    waiter = null;
    clearTimeout(w.timer);
    w.resolve(answer);
  };
  socket.on('data', (chunk) => {
    text += chunk;
    take();
  });
  socket.on('error', (e) => waiter?.reject(e));
  socket.on('close', () => waiter?.reject(new Error(`closed; got ${JSON.stringify(text)}`)));
  const ask = (target) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${target}; got ${JSON.stringify(text)}`)), h.TIMEOUT);
      waiter = { resolve, reject, timer };
      socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
    });
  return { ask, close: () => socket.destroy() };
}

test('hello-cpp: the worker holding a connection answers its hits from the shared table; a purge reaches it', async (t) => {
  const port = await h.freePort();
  // One worker: no request of the connection can go back to the master or to another slot.
  const yaml = h.config({ port, command: [h.HELLO_CPP], workers: 1, extra: '    cache: {}\n' });
  const sup = await h.startSupervisor(yaml, { ready: 1 });
  t.after(() => sup.stop());
  await h.request({ port, path: '/cached' });
  await cachedSoon({ port, path: '/cached' });
  const c = connection(port);
  t.after(() => c.close());
  assert.match((await c.ask('/pid')).body, /^\d+$/);  // a miss: the worker holds the connection now
  for (let i = 0; i < 3; i++) {
    const hit = await c.ask('/cached');
    assert.match(hit.head, /\r\nAge: \d+\r\n/);
    assert.match(hit.head, /\r\nDate: \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT\r\n/);
    assert.strictEqual(hit.body, 'Hello, world!');
  }
  // The worker's hits count in status, beside the master's.
  const counted = await h.eventually(async () => {
    const text = (await h.cli(sup, ['status'])).stdout;
    return { ok: /app hello: cache [\d.]+% hits \(\d+ of \d+, 3 by workers\)/.test(text), text };
  });
  assert.ok(counted.ok, counted.text);
  // A purge clears the table too: the held connection's next request reaches the app.
  const purge = await h.cli(sup, ['cache', 'purge']);
  assert.strictEqual(purge.code, 0, purge.stderr);
  const after = await c.ask('/cached');
  assert.doesNotMatch(after.head, /\r\nAge:/);
  assert.strictEqual(after.body, 'Hello, world!');
});

test('a program without the SDK (ready: on_spawn): concurrent misses for a key are not held for lock_timeout', async (t) => {
  const port = await h.freePort();
  // A lock_timeout far past the requests' own timeout: a held request would fail.
  const yaml = h.config({
    port,
    command: [h.NODE, h.PLAIN_NODE],
    workers: 1,
    extra: '    ready: on_spawn\n    cache: {lock_timeout: 60s}\n',
  });
  const sup = await h.startSupervisor(yaml, { ready: 1 });
  t.after(() => sup.stop());
  for (let round = 0; round < 2; round++) {
    const answers = await Promise.all(Array.from({ length: 20 }, () => h.request({ port, path: '/same' })));
    for (const r of answers) {
      assert.strictEqual(r.status, 200);
      assert.strictEqual(r.body, 'Hello, world!');
      assert.strictEqual(r.headers.age, undefined);
    }
  }
});
