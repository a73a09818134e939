'use strict';
// L7 routing: the master reads the request head (MSG_PEEK: the worker still gets every
// byte), picks the slot by a key from it, and answers heads it cannot route with 4xx.
const test = require('node:test');
const assert = require('node:assert');
const net = require('node:net');
const h = require('./helpers');

function app({ name = 'hello', command = [h.HELLO_CPP], workers = 4, policy, extra = '' }) {
  return `  - name: ${name}
    command: ${JSON.stringify(command)}
    workers: ${workers}
    policy: ${policy}
${extra}`;
}

function cluster({ port, listener = '', apps }) {
  return `listeners:
  - address: 127.0.0.1:${port}
${listener}
apps:
${apps.join('')}`;
}

async function start(yaml, ready) {
  const sup = await h.startSupervisor(yaml);
  for (const [appName, slots] of Object.entries(ready))
    for (let slot = 1; slot <= slots; slot++)
      await sup.log.waitFor(new RegExp(`event=ready app=${appName} slot=${slot} `));
  return sup;
}

// Writes raw bytes (in pieces, if asked) on a new connection and resolves with all the
// bytes the server sent until it closed, or what came before `timeout`.
function raw(port, pieces, { gapMs = 0, timeout = h.TIMEOUT } = {}) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks = [];
    let closedByPeer = false;
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (e) => (e.code === 'ECONNRESET' ? (closedByPeer = true) : reject(e)));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed: true, reset: closedByPeer });
    });
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ text: Buffer.concat(chunks).toString('latin1'), closed: false });
    }, timeout);
    socket.on('connect', async () => {
      for (const piece of pieces) {
        if (socket.destroyed) return;
        socket.write(piece);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    });
  });
}

test('url_segment direct: /N/ reaches slot N; out of range and missing keys get 404', async (t) => {
  const port = await h.freePort();
  const sup = await start(
    cluster({ port, apps: [app({ policy: '{url_segment: {index: 1, direct: true}}' })] }),
    { hello: 4 },
  );
  t.after(() => sup.stop());
  for (let round = 0; round < 3; round++)
    for (let slot = 1; slot <= 4; slot++) {
      const res = await h.request({ port, path: `/${slot}/room${round}` });
      assert.strictEqual(res.status, 200);
      assert.strictEqual(h.workerOf(res).slot, slot);
    }
  for (const path of ['/5/x', '/0/x', '/01/x', '/x/y', '/', '//1']) {
    const res = await h.request({ port, path });
    assert.strictEqual(res.status, 404, path);
    assert.strictEqual(res.headers['x-handoff-worker'], undefined, 'the master answered, not a worker');
  }
});

test('url_segment missing_key: a request without a key goes where the fallback rule sends it', async (t) => {
  const port = await h.freePort();
  const sup = await start(
    cluster({
      port,
      apps: [app({ policy: '{url_segment: {index: 2, direct: true}}', extra: '    missing_key: round_robin\n' })],
    }),
    { hello: 4 },
  );
  t.after(() => sup.stop());
  assert.strictEqual(h.workerOf(await h.request({ port, path: '/room/3/x' })).slot, 3);
  const slots = new Set();
  for (let i = 0; i < 8; i++) {
    const res = await h.request({ port, path: '/room' });
    assert.strictEqual(res.status, 200);
    slots.add(h.workerOf(res).slot);
  }
  assert.deepStrictEqual([...slots].sort(), [1, 2, 3, 4]);
});

// Hashed keys: a key always reaches one slot, many keys reach every slot, and the rule
// and the key's place in the head are what decide.
async function checkHashedRule(t, policy, requestFor) {
  const port = await h.freePort();
  const sup = await start(cluster({ port, apps: [app({ policy })] }), { hello: 4 });
  t.after(() => sup.stop());
  const slotOf = new Map();
  for (let k = 0; k < 40; k++) {
    const key = `key-${k}`;
    for (let again = 0; again < 2; again++) {
      const res = await h.request({ port, ...requestFor(key) });
      assert.strictEqual(res.status, 200);
      const { slot } = h.workerOf(res);
      if (!slotOf.has(key)) slotOf.set(key, slot);
      assert.strictEqual(slot, slotOf.get(key), `${key} moved`);
    }
  }
  assert.deepStrictEqual([...new Set(slotOf.values())].sort(), [1, 2, 3, 4]);
  const missing = await h.request({ port, path: '/' });
  assert.strictEqual(missing.status, 404);
  return { port, sup, slotOf };
}

test('url_segment hashed: each room keeps its slot', async (t) => {
  await checkHashedRule(t, '{url_segment: {index: 1}}', (key) => ({ path: `/${key}/messages` }));
});

test('header rule', async (t) => {
  await checkHashedRule(t, '{header: X-Room}', (key) => ({ path: '/', headers: { 'x-room': key } }));
});

test('cookie rule', async (t) => {
  await checkHashedRule(t, '{cookie: room}', (key) => ({ path: '/', headers: { cookie: `a=1; room=${key}; b=2` } }));
});

test('query rule', async (t) => {
  await checkHashedRule(t, '{query: room}', (key) => ({ path: `/x?a=1&room=${key}` }));
});

test('host rule ignores the port and the case of the name', async (t) => {
  const port = await h.freePort();
  const sup = await start(cluster({ port, apps: [app({ policy: 'host' })] }), { hello: 4 });
  t.after(() => sup.stop());
  const slots = new Set();
  for (let k = 0; k < 40; k++) {
    const a = await h.request({ port, headers: { host: `site${k}.example:${port}` } });
    const b = await h.request({ port, headers: { host: `SITE${k}.Example` } });
    assert.strictEqual(h.workerOf(a).slot, h.workerOf(b).slot);
    slots.add(h.workerOf(a).slot);
  }
  assert.deepStrictEqual([...slots].sort(), [1, 2, 3, 4]);
});

test('scaling from 4 to 5 workers moves about 1/5 of the keys, all to the new slot', async (t) => {
  const port = await h.freePort();
  const yaml = (workers) =>
    cluster({ port, apps: [app({ workers, policy: '{url_segment: {index: 1}}' })] });
  const sup = await start(yaml(4), { hello: 4 });
  t.after(() => sup.stop());
  const before = new Map();
  const KEYS = 200;
  for (let k = 0; k < KEYS; k++) before.set(k, h.workerOf(await h.request({ port, path: `/room${k}/` })).slot);
  require('node:fs').writeFileSync(sup.file, yaml(5));
  const mark = sup.log.mark();
  assert.strictEqual((await h.cli(sup, ['reload', '--config-only'])).code, 0);  // the 4 workers stay
  await sup.log.waitFor(/event=ready app=hello slot=5 /, { from: mark });
  let moved = 0;
  for (let k = 0; k < KEYS; k++) {
    const slot = h.workerOf(await h.request({ port, path: `/room${k}/` })).slot;
    if (slot !== before.get(k)) {
      moved++;
      assert.strictEqual(slot, 5, `room${k} moved between old slots`);
    }
  }
  // Expected KEYS/5 = 40; a wide band, since 200 keys are few.
  assert.ok(moved >= 20 && moved <= 60, `${moved} of ${KEYS} keys moved`);
});

test('port sharing: the longest URL prefix picks the app; no match is 404', async (t) => {
  const port = await h.freePort();
  const sup = await start(
    cluster({
      port,
      apps: [
        app({ name: 'chat', workers: 2, policy: '{url_segment: {index: 2, direct: true}}', extra: '    routes: ["/chat/"]\n' }),
        app({ name: 'api', workers: 1, policy: 'round_robin', extra: '    routes: ["/api/", "/chat/admin/"]\n' }),
        app({ name: 'node', command: [h.NODE, h.HELLO_NODE], workers: 1, policy: 'round_robin', extra: '    routes: ["/static/"]\n' }),
      ],
    }),
    { chat: 2, api: 1, node: 1 },
  );
  t.after(() => sup.stop());
  const who = async (path) => {
    const res = await h.request({ port, path });
    return res.status === 200 ? `${h.workerOf(res).app}/${h.workerOf(res).slot}` : res.status;
  };
  assert.strictEqual(await who('/chat/2/room'), 'chat/2');
  assert.strictEqual(await who('/chat/1/room'), 'chat/1');
  assert.strictEqual(await who('/chat/admin/users'), 'api/1');
  assert.strictEqual(await who('/api/v1'), 'api/1');
  assert.strictEqual(await who('/static/app.js'), 'node/1');
  assert.strictEqual(await who('/other'), 404);
  assert.strictEqual(await who('/'), 404);
  assert.strictEqual(await who('/chat'), 404); // "/chat/" is the prefix
});

test('the worker gets every byte: heads sent in pieces, large heads and large bodies', async (t) => {
  const port = await h.freePort();
  const sup = await start(
    cluster({ port, apps: [app({ workers: 2, policy: '{url_segment: {index: 1, direct: true}}' })] }),
    { hello: 2 },
  );
  t.after(() => sup.stop());
  // A head trickled in 7-byte pieces: the master waits for the end of the head, the
  // worker then reads the whole request from the kernel.
  const head = `GET /2/pid HTTP/1.1\r\nHost: x\r\nX-Filler: ${'f'.repeat(300)}\r\nConnection: close\r\n\r\n`;
  const pieces = head.match(/[\s\S]{1,7}/g);
  const slow = await raw(port, pieces, { gapMs: 2 });
  assert.match(slow.text, /^HTTP\/1\.1 200/);
  assert.match(slow.text, /X-Handoff-Worker: hello\/2\//i);
  // A 12 KB head (larger than one read of many clients) and a 3 MB body.
  const body = Buffer.alloc(3 * 1024 * 1024);
  for (let i = 0; i < body.length; i++) body[i] = (i * 7919) & 0xff;
  const res = await new Promise((resolve, reject) => {
    const req = require('node:http').request(
      { host: '127.0.0.1', port, path: '/1/echo', method: 'POST', agent: false, headers: { 'x-big': 'b'.repeat(12 * 1024) } },
      (r) => {
        const chunks = [];
        r.on('data', (c) => chunks.push(c));
        r.on('end', () => resolve({ status: r.statusCode, headers: r.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
  assert.strictEqual(res.status, 200);
  assert.strictEqual(h.workerOf(res).slot, 1);
  assert.ok(res.body.equals(body), 'the echoed body is the one sent');
});

test('heads that cannot be routed: 408 after head_timeout, 431 past max_head, 400 when malformed', async (t) => {
  const port = await h.freePort();
  const sup = await start(
    cluster({
      port,
      listener: '    head_timeout: 300ms\n    max_head: 1KiB\n',
      apps: [app({ workers: 2, policy: '{url_segment: {index: 1, direct: true}}' })],
    }),
    { hello: 2 },
  );
  t.after(() => sup.stop());
  const started = Date.now();
  const partial = await raw(port, ['GET /1/ HTTP/1.1\r\nHost: x\r\n']);
  assert.match(partial.text, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  assert.ok(partial.closed);
  assert.ok(Date.now() - started >= 250, 'not before head_timeout');
  const silent = await raw(port, []);
  assert.match(silent.text, /^HTTP\/1\.1 408 /, 'a client that sends nothing also gets 408');
  const large = await raw(port, [`GET /1/ HTTP/1.1\r\nX-Big: ${'b'.repeat(2000)}\r\n\r\n`]);
  assert.match(large.text, /^HTTP\/1\.1 431 /);
  const endless = await raw(port, [`GET /1/ HTTP/1.1\r\nX-Big: ${'b'.repeat(2000)}`]);
  assert.match(endless.text, /^HTTP\/1\.1 431 /, 'no end of head within max_head');
  for (const junk of ['\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03', 'HELLO THERE\r\n\r\n', 'GET / HTTP/9.9\r\n\r\n', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n']) {
    const res = await raw(port, [Buffer.from(junk, 'latin1')]);
    assert.match(res.text, /^HTTP\/1\.1 400 /, JSON.stringify(junk));
  }
  // A header on a listener that does not take the PROXY protocol is a 400, too.
  const proxied = await raw(port, ['PROXY TCP4 203.0.113.7 127.0.0.1 5000 80\r\nGET /1/ HTTP/1.1\r\n\r\n']);
  assert.match(proxied.text, /^HTTP\/1\.1 400 /);
  // Good clients were never in the way.
  assert.strictEqual(h.workerOf(await h.request({ port, path: '/2/' })).slot, 2);
});

test('slowloris: past max_classifying the oldest are dropped and good clients are served', async (t) => {
  const port = await h.freePort();
  const sup = await start(
    cluster({
      port,
      listener: '    max_classifying: 8\n    head_timeout: 30s\n',
      apps: [app({ workers: 2, policy: '{url_segment: {index: 1, direct: true}}' })],
    }),
    { hello: 2 },
  );
  t.after(() => sup.stop());
  const slow = [];
  const closed = [];
  for (let i = 0; i < 20; i++) {
    const s = net.connect(port, '127.0.0.1');
    s.on('error', () => {});
    const done = new Promise((r) => s.on('close', () => r(i)));
    closed.push(done);
    await new Promise((r) => s.on('connect', r));
    s.write('GET /1/ HTTP/1.1\r\nX-Slow: ');
    slow.push(s);
  }
  // 12 of the 20 are over the bound: the oldest 12 are closed, the newest 8 still wait.
  const first = await Promise.all(closed.slice(0, 12));
  assert.deepStrictEqual(first, [...Array(12).keys()]);
  for (let i = 0; i < 10; i++) assert.strictEqual((await h.request({ port, path: '/2/' })).status, 200);
  for (const s of slow) s.destroy();
});

function proxyV2(source, sourcePort) {
  const sig = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
  const addresses = Buffer.alloc(12);
  source.split('.').forEach((b, i) => (addresses[i] = Number(b)));
  [127, 0, 0, 1].forEach((b, i) => (addresses[4 + i] = b));
  addresses.writeUInt16BE(sourcePort, 8);
  addresses.writeUInt16BE(80, 10);
  const header = Buffer.from([0x21, 0x11, 0x00, 12]);
  return Buffer.concat([sig, header, addresses]);
}

test('PROXY protocol v1 and v2: the source address in the header is the one ip_hash uses', async (t) => {
  const port = await h.freePort();
  const sup = await start(
    cluster({ port, listener: '    proxy_protocol: true\n', apps: [app({ policy: 'ip_hash' })] }),
    { hello: 4 },
  );
  t.after(() => sup.stop());
  const slotVia = async (header) => {
    const res = await raw(port, [header, 'GET /pid HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n']);
    const m = res.text.match(/X-Handoff-Worker: hello\/(\d+)\//i);
    assert.ok(m, `no answer: ${JSON.stringify(res.text)}`);
    return Number(m[1]);
  };
  const slots = new Set();
  for (let i = 1; i <= 32; i++) {
    const client = `203.0.113.${i}`;
    const v1 = await slotVia(`PROXY TCP4 ${client} 127.0.0.1 4${i} 80\r\n`);
    const v2 = await slotVia(proxyV2(client, 40000 + i));
    assert.strictEqual(v1, v2, `${client}: v1 and v2 disagree`);
    slots.add(v1);
  }
  // 32 real clients behind one load balancer address still spread over the slots.
  assert.deepStrictEqual([...slots].sort(), [1, 2, 3, 4]);
  // Without a header the connection is closed unanswered.
  const plain = await raw(port, ['GET / HTTP/1.1\r\nHost: x\r\n\r\n']);
  assert.ok(plain.closed);
  assert.strictEqual(plain.text, '');
});
