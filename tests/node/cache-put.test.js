'use strict';
// The output cache, the Node SDK's side (worker-sdk/node/cache.js): with `cache` in the
// welcome, a response the rule calls cacheable goes to the master as one `cache_put` with
// the exact bytes of its body; the first request of a `fill` connection always gets a
// put or a `cache_pass`; without the offer nothing is sent and nothing is wrapped. The
// test plays the master (helpers.js); the master's own side has its integration tests.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const zlib = require('node:zlib');
const { SCRIPTS, startWorker, request, RawClient } = require('./helpers');

const SERVER = path.join(__dirname, 'fixtures', 'cache-server.js');
const EXPRESS = path.join(__dirname, 'fixtures', 'cache-express.js');
const MAX_ENTRY = 4096;
const WELCOME = { app: 'hello', slot: 1, workers: 1, generation: 1, heartbeat_ms: 0 };
const CACHE_WELCOME = { ...WELCOME, cache: { max_entry: MAX_ENTRY } };
const T = { timeout: 30000 };

const isCache = (m) => m && (m.handoff === 'cache_put' || m.handoff === 'cache_pass');
const bodyOf = (put) => Buffer.from(put.body, 'base64');
const header = (put, name) => put.headers.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);

// A worker with the test as its master; each connection it accepts is handed over with
// the next of `fills` (true: `fill`), then without.
async function startCacheWorker(t, { script = SERVER, welcome = CACHE_WELCOME, fills = [], env } = {}) {
  const master = await startWorker(t, script, {
    welcome,
    env,
    onConnection: (socket, handOver) => handOver(socket, fills.shift() ? { fill: true } : {}),
  });
  master.cacheMessages = () => master.messages.filter(isCache);
  // The put for `target`, the first to come.
  master.putFor = (target) => master.waitMessage((m) => m.handoff === 'cache_put' && m.target === target, `cache_put ${target}`);
  // The worker judges each response when it has finished and sends in that order: once the
  // put of a later request has come, whatever an earlier one caused has come too.
  let markers = 0;
  master.settle = async () => {
    const target = `/public?marker=${++markers}`;
    await request(master.port, { path: target });
    await master.putFor(target);
    return master.cacheMessages().filter((m) => !m.target.startsWith('/public?marker='));
  };
  return master;
}

test('a cacheable response: one cache_put with its key, status, headers and the body as sent', T, async (t) => {
  const master = await startCacheWorker(t);
  const res = await request(master.port, { path: '/public', headers: { Host: 'Example.COM:8080', 'Accept-Encoding': 'gzip, br' } });
  assert.equal(res.status, 200);
  const put = await master.putFor('/public');
  assert.equal(put.v, 1);
  assert.equal(put.host, 'example.com:8080');
  assert.equal(put.accept_encoding, 'gzip, br');
  assert.equal(put.status, 200);
  assert.equal(put.ttl, undefined, 'no ttl without res.cacheDuration');
  assert.deepEqual(bodyOf(put), res.body);
  assert.equal(bodyOf(put).toString(), 'public');
  assert.deepEqual(header(put, 'cache-control'), ['public, max-age=60']);
  assert.deepEqual(header(put, 'content-type'), ['text/plain']);
  // The framing and Date are the master's: left out.
  for (const name of ['date', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']) {
    assert.deepEqual(header(put, name), [], name);
  }
  // Without Accept-Encoding in the request, none in the put.
  await request(master.port, { path: '/s-maxage' });
  assert.equal((await master.putFor('/s-maxage')).accept_encoding, undefined);
  assert.deepEqual((await master.settle()).map((m) => m.target), ['/public', '/s-maxage'], 'one put each');
});

// Each: the path, then what the body must be (besides equal to what the client got).
const bodies = [
  ['/buffer', Buffer.from([0xff, 0xfe, 0x00, 0xc3, 0x28, 0x80, 0x0a])],
  ['/utf8', Buffer.from('héllo wörld ☃ 😀', 'utf8')],
  ['/chunks', Buffer.concat([Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x20, 0xc3, 0xa9]), Buffer.from(' buffer ! end ☃')])],
  ['/reused', Buffer.from('first again!')],
  ['/writehead', Buffer.from('from writeHead')],
  ['/redirect', Buffer.alloc(0)],
  ['/missing', Buffer.from('not here')],
  ['/vary-ae', Buffer.from('varies on encoding')],
  ['/s-maxage', Buffer.from('shared')],
];

test('the body is the exact bytes sent: Buffers, utf8 and other encodings, several writes, a reused buffer', T, async (t) => {
  const master = await startCacheWorker(t);
  for (const [target, expected] of bodies) {
    const res = await request(master.port, { path: target });
    const put = await master.putFor(target);
    assert.deepEqual(bodyOf(put), res.body, `${target}: the put's body is what the client got`);
    assert.deepEqual(bodyOf(put), expected, target);
    assert.equal(put.status, res.status, target);
  }
});

test('headers given to writeHead() alone are in the put, repeated ones as several pairs', T, async (t) => {
  const master = await startCacheWorker(t);
  await request(master.port, { path: '/writehead' });
  const put = await master.putFor('/writehead');
  assert.deepEqual(header(put, 'cache-control'), ['public, max-age=60']);
  assert.deepEqual(header(put, 'x-two'), ['a', 'b']);
  assert.ok(put.headers.some(([name]) => name === 'Content-Type'), 'names as the app wrote them');
  await request(master.port, { path: '/redirect' });
  const redirect = await master.putFor('/redirect');
  assert.equal(redirect.status, 301);
  assert.deepEqual(header(redirect, 'location'), ['/public']);
});

test('res.cacheDuration: seconds as ttl without Cache-Control; 0 never caches', T, async (t) => {
  const master = await startCacheWorker(t);
  await request(master.port, { path: '/duration' });
  const put = await master.putFor('/duration');
  assert.equal(put.ttl, 30);
  assert.equal(bodyOf(put).toString(), 'for thirty seconds');
  await request(master.port, { path: '/duration0' });
  assert.deepEqual((await master.settle()).map((m) => m.target), ['/duration']);
});

test('a body transformed by middleware that wraps write/end (gzip, as `compression` does) is put as sent', T, async (t) => {
  const master = await startCacheWorker(t);
  const res = await request(master.port, { path: '/gzip', headers: { 'Accept-Encoding': 'gzip' } });
  assert.equal(res.headers['content-encoding'], 'gzip');
  const put = await master.putFor('/gzip');
  assert.deepEqual(bodyOf(put), res.body);
  assert.equal(zlib.gunzipSync(bodyOf(put)).toString(), `${'compressed '.repeat(50)}body`);
  assert.deepEqual(header(put, 'content-encoding'), ['gzip']);
  assert.deepEqual(header(put, 'vary'), ['Accept-Encoding']);
  assert.equal(put.accept_encoding, 'gzip');
});

test('a body of max_entry bytes is put, one byte more is not', T, async (t) => {
  const master = await startCacheWorker(t);
  await request(master.port, { path: `/large?n=${MAX_ENTRY}` });
  assert.equal(bodyOf(await master.putFor(`/large?n=${MAX_ENTRY}`)).length, MAX_ENTRY);
  await request(master.port, { path: `/large?n=${MAX_ENTRY + 1}` });
  assert.deepEqual((await master.settle()).map((m) => m.target), [`/large?n=${MAX_ENTRY}`]);
});

test('nothing is sent for what must not be cached', T, async (t) => {
  const master = await startCacheWorker(t);
  const refused = [
    { path: '/private' },
    { path: '/no-store' },
    { path: '/no-cache' },
    { path: '/cookie' },
    { path: '/plain' },
    { path: '/status-500' },
    { path: '/vary-cookie' },
    { path: '/public', headers: { Authorization: 'Bearer x' } },
    { path: '/public', method: 'HEAD' },
    { path: '/public', method: 'POST', body: 'x' },
  ];
  for (const options of refused) {
    const res = await request(master.port, options);
    assert.ok(res.status < 400 || options.path === '/status-500', `${options.path}: ${res.status}`);
  }
  assert.deepEqual(await master.settle(), []);
});

test('only cacheable requests have write/end wrapped, and only with the offer', T, async (t) => {
  const master = await startCacheWorker(t);
  assert.equal((await request(master.port, { path: '/wrapped' })).body.toString(), 'wrapped');
  assert.equal((await request(master.port, { path: '/wrapped', method: 'POST' })).body.toString(), 'plain');
  assert.equal((await request(master.port, { path: '/wrapped', headers: { Authorization: 'x' } })).body.toString(), 'plain');
});

test('fill: an uncacheable first response gets cache_pass; later ones on the connection never do', T, async (t) => {
  const master = await startCacheWorker(t, { fills: [true] });
  const client = await RawClient.connect(master.port);
  t.after(() => client.close());
  client.write('GET /plain?a=1 HTTP/1.1\r\nHost: Fill.Example\r\n\r\n');
  assert.equal((await client.response()).status, 200);
  const pass = await master.waitMessage((m) => m.handoff === 'cache_pass', 'cache_pass');
  assert.deepEqual(pass, { handoff: 'cache_pass', v: 1, host: 'fill.example', target: '/plain?a=1' });
  client.write('GET /private HTTP/1.1\r\nHost: fill.example\r\n\r\n');
  await client.response();
  client.write('GET /public?second HTTP/1.1\r\nHost: fill.example\r\n\r\n');
  await client.response();
  await master.putFor('/public?second');
  assert.deepEqual(
    (await master.settle()).map((m) => [m.handoff, m.target]),
    [
      ['cache_pass', '/plain?a=1'],
      ['cache_put', '/public?second'],
    ],
  );
});

test('fill: a cacheable first response gets one cache_put and no pass', T, async (t) => {
  const master = await startCacheWorker(t, { fills: [true] });
  await request(master.port, { path: '/public?fill', agent: false });
  await master.putFor('/public?fill');
  assert.deepEqual((await master.settle()).map((m) => [m.handoff, m.target]), [['cache_put', '/public?fill']]);
});

test('fill: a first request the worker may not cache (HEAD, POST) gets cache_pass', T, async (t) => {
  const master = await startCacheWorker(t, { fills: [true, true] });
  // agent: false, a connection each: both are first requests.
  await request(master.port, { path: '/public', method: 'HEAD', agent: false });
  await request(master.port, { path: '/public', method: 'POST', body: 'x', agent: false });
  assert.deepEqual(
    (await master.settle()).map((m) => [m.handoff, m.target]),
    [
      ['cache_pass', '/public'],
      ['cache_pass', '/public'],
    ],
  );
});

test('fill: a first request whose socket is destroyed before any response gets cache_pass', T, async (t) => {
  const master = await startCacheWorker(t, { fills: [true] });
  await assert.rejects(request(master.port, { path: '/destroy', agent: false }));
  const pass = await master.waitMessage((m) => m.handoff === 'cache_pass', 'cache_pass');
  assert.equal(pass.target, '/destroy');
  assert.deepEqual(await master.settle(), [pass]);
});

test('fill: a first request that leaves HTTP (an upgrade) gets cache_pass', T, async (t) => {
  const master = await startCacheWorker(t, { fills: [true] });
  const client = await RawClient.connect(master.port);
  t.after(() => client.close());
  client.write('GET /socket HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n');
  const pass = await master.waitMessage((m) => m.handoff === 'cache_pass', 'cache_pass');
  assert.deepEqual(pass, { handoff: 'cache_pass', v: 1, host: 'x', target: '/socket' });
});

test('without cache in the welcome: nothing is sent, fill or not, and nothing is wrapped', T, async (t) => {
  const master = await startCacheWorker(t, { welcome: WELCOME, fills: [true, true] });
  await request(master.port, { path: '/plain', agent: false }); // a fill connection
  assert.equal((await request(master.port, { path: '/wrapped', agent: false })).body.toString(), 'plain'); // another
  await request(master.port, { path: '/public' });
  await request(master.port, { path: '/duration' });
  // No put to wait for: a moment in which any message would have come.
  await new Promise((resolve) => setTimeout(resolve, 300));
  assert.deepEqual(master.cacheMessages(), []);
});

const expressSkip = fs.existsSync(path.join(__dirname, '..', 'apps', 'node_modules', '.package-lock.json'))
  ? false
  : 'run `cd tests/apps && npm ci` first';

for (const flavour of ['express', 'express5']) {
  test(`${flavour}: a mounted router's response is put under the target as received; gzip middleware's bytes`, { ...T, skip: expressSkip }, async (t) => {
    const master = await startCacheWorker(t, { script: EXPRESS, env: { CACHE_EXPRESS: flavour } });
    const page = await request(master.port, { path: '/mounted/page?q=1' });
    assert.equal(page.body.toString(), 'page /page?q=1', 'the router saw its own url');
    const put = await master.putFor('/mounted/page?q=1');
    assert.deepEqual(bodyOf(put), page.body);
    assert.ok(header(put, 'etag').length === 1, "Express's own headers are there");

    const zipped = await request(master.port, { path: '/gzip', headers: { 'Accept-Encoding': 'gzip' } });
    const gzipPut = await master.putFor('/gzip');
    assert.deepEqual(bodyOf(gzipPut), zipped.body);
    assert.equal(zlib.gunzipSync(bodyOf(gzipPut)).toString(), 'express gzip '.repeat(40));
    assert.deepEqual(header(gzipPut, 'content-encoding'), ['gzip']);
    assert.deepEqual(header(gzipPut, 'content-length'), []);
  });
}

test('hello-node: GET /cached is put with Cache-Control public, max-age=60; GET / is not', T, async (t) => {
  const master = await startCacheWorker(t, { script: SCRIPTS.hello });
  const res = await request(master.port, { path: '/cached' });
  assert.equal(res.body.toString(), 'Hello, world!');
  assert.equal(res.headers['cache-control'], 'public, max-age=60');
  const put = await master.putFor('/cached');
  assert.equal(bodyOf(put).toString(), 'Hello, world!');
  assert.deepEqual(header(put, 'cache-control'), ['public, max-age=60']);
  await request(master.port, { path: '/' });
  await request(master.port, { path: '/3/room/cached' });
  await master.putFor('/3/room/cached'); // the last segment names the action
  assert.deepEqual(master.cacheMessages().map((m) => m.target), ['/cached', '/3/room/cached']);
});
