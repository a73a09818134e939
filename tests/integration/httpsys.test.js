'use strict';
// HTTP.SYS mode (listeners[].httpsys). On Linux: the config check refuses it, located.
// Under wine (HANDOFF_TARGET=windows): per-slot request queues created by the master,
// duplicated into hello-cpp.exe workers, served through the SDK's handler API, with
// Linux-side HTTP clients. docs/windows.md, "HTTP.SYS mode".
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const h = require('./helpers');

const httpsysConfig = (port, workers = 3) => `listeners:
  - name: web
    httpsys: "http://+:${port}/"
apps:
  - name: hello
    command: ${JSON.stringify(h.HELLO_CPP)}
    workers: ${workers}
    restart: {min_delay: 100ms}
    http: {max_body_size: 8000}
`;

test('check: an httpsys listener needs Windows (located, exit 2, nothing started)', { skip: h.WINDOWS && 'Windows has HTTP.SYS' }, async () => {
  const file = path.join(h.tempDir(), 'httpsys.yaml');
  fs.writeFileSync(file, httpsysConfig(8080));
  for (const args of [['check', file], ['--config', file]]) {
    const r = await h.runSupervisor(args);
    assert.strictEqual(r.code, 2, r.stderr);
    assert.match(r.stderr, new RegExp(`${file.replace(/[.]/g, '\\.')}:3:14: listeners\\[0\\]\\.httpsys: httpsys listeners need Windows \\(HTTP\\.SYS\\)`));
    assert.doesNotMatch(r.stderr, /event=spawn/);
  }
});

test('check: httpsys is exclusive with address and the socket keys', async () => {
  const file = path.join(h.tempDir(), 'httpsys.yaml');
  fs.writeFileSync(file, httpsysConfig(8080).replace('    httpsys:', '    backlog: 10\n    httpsys:'));
  const r = await h.runSupervisor(['check', file]);
  assert.strictEqual(r.code, 2);
  assert.match(r.stderr, /:3:14: listeners\[0\]\.backlog: `backlog` is for socket listeners/);
});

// The answer to one request, or 'no answer' when none came within `ms` (the request is
// then abandoned and its connection closed).
function answerOrSilence(port, p, ms) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: p, agent: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.setTimeout(ms, () => {
      req.destroy();
      resolve('no answer');
    });
    req.on('error', (e) => (req.destroyed ? resolve('no answer') : reject(e)));
  });
}

// Slots 1..3 answer their own prefixes; the answer says which worker.
async function slotsAnswer(port, workers) {
  const pids = {};
  for (let slot = 1; slot <= workers; slot++) {
    const r = await h.request({ port, path: `/${slot}/pid` });
    assert.strictEqual(r.status, 200, `slot ${slot}: ${r.status} ${r.body}`);
    const w = h.workerOf(r);
    assert.deepStrictEqual([w.app, w.slot], ['hello', slot]);
    assert.strictEqual(r.body, String(w.pid));
    pids[slot] = w.pid;
  }
  return pids;
}

test('HTTP.SYS: each slot serves its own prefix; a dead worker is replaced and the slot serves again', { skip: !h.WINDOWS && 'needs Windows (wine): HTTP.SYS' }, async () => {
  const port = await h.freePort();
  const sup = await h.startSupervisor(httpsysConfig(port), { ready: 3 });
  try {
    for (let slot = 1; slot <= 3; slot++) await sup.log.waitFor(new RegExp(`event=httpsys_queue app=hello slot=${slot} prefix=http://\\+:${port}/${slot}/`));
    const pids = await slotsAnswer(port, 3);
    assert.strictEqual(new Set(Object.values(pids)).size, 3);

    // A body goes in and comes back (HttpReceiveHttpRequest with the body, one HttpSendHttpResponse).
    const body = 'x'.repeat(5000) + '-end';
    const echoed = await h.request({ port, path: '/2/echo', method: 'POST', body, headers: { 'content-type': 'text/plain' } });
    assert.strictEqual(echoed.status, 200);
    assert.strictEqual(echoed.body, body);
    assert.strictEqual(h.workerOf(echoed).slot, 2);
    // Past the app's http.max_body_size: 413 from the SDK, the handler never sees it.
    const large = await h.request({ port, path: '/2/echo', method: 'POST', body: 'y'.repeat(10000) });
    assert.strictEqual(large.status, 413);

    // A URL outside every slot's prefix never reaches a worker. Real Windows answers it
    // 404 itself; wine 8's http.sys leaves it unanswered (the connection stays open), so
    // the client gives up after a while: either is accepted, a worker's answer is not.
    const outside = await answerOrSilence(port, '/9/pid', 3000);
    if (outside !== 'no answer') {
      assert.strictEqual(outside.status, 404, `${outside.status} ${outside.body}`);
      assert.strictEqual(outside.headers['x-handoff-worker'], undefined);
    }
    assert.deepStrictEqual(await slotsAnswer(port, 3), pids);  // and the slots go on

    // Kill slot 2's worker: another takes its place, on the same queue.
    const from = sup.log.lines.length;
    process.kill(pids[2], 'SIGKILL');
    await sup.log.waitFor(/event=exit app=hello slot=2 /, { from });
    await sup.log.waitFor(/event=ready app=hello slot=2 /, { from });
    const again = await h.eventually(async () => {
      const r = await h.request({ port, path: '/2/pid' });
      return { ok: r.status === 200 && h.workerOf(r).pid !== pids[2], r };
    });
    assert.ok(again.ok, JSON.stringify(again.r));
    assert.strictEqual(h.workerOf(again.r).slot, 2);
  } finally {
    await sup.stop();
  }
});

test('HTTP.SYS: a request sent while its slot has no worker waits in the queue and is answered by the replacement', { skip: !h.WINDOWS && 'needs Windows (wine): HTTP.SYS' }, async () => {
  const port = await h.freePort();
  // A restart delay long enough that the request surely arrives while nobody receives.
  const yaml = httpsysConfig(port, 2).replace('restart: {min_delay: 100ms}', 'restart: {min_delay: 3s, max_delay: 3s}');
  const sup = await h.startSupervisor(yaml, { ready: 2 });
  try {
    const before = h.workerOf(await h.request({ port, path: '/2/pid' }));
    assert.strictEqual(before.slot, 2);
    const from = sup.log.lines.length;
    process.kill(before.pid, 'SIGKILL');
    await sup.log.waitFor(/event=exit app=hello slot=2 /, { from });
    // The worker is gone and its replacement is 3 s away: the request waits in the slot's
    // HTTP.SYS queue, which the master holds, instead of failing.
    const sent = sup.log.lines.length;
    const answer = await h.request({ port, path: '/2/pid' });
    assert.strictEqual(answer.status, 200, answer.body);
    const after = h.workerOf(answer);
    assert.strictEqual(after.slot, 2);
    assert.notStrictEqual(after.pid, before.pid);
    // It was answered by the replacement, which became ready only after the request was sent.
    const ready = sup.log.lines.findIndex((l, i) => i >= sent && /event=ready app=hello slot=2 /.test(l));
    assert.ok(ready >= sent, `no ready of slot 2 after the request was sent:\n${sup.log.lines.join('\n')}`);
    assert.strictEqual((await h.request({ port, path: '/1/pid' })).status, 200);
  } finally {
    await sup.stop();
  }
});

// `cache:` on an app in HTTP.SYS mode is HTTP.SYS's kernel cache (docs/cache.md, "HTTP.SYS
// mode"): the master's own settings are refused there, located, on every platform (the
// schema is checked before the platform).
test('check: cache on an httpsys app takes default_ttl; the master\'s settings are located errors', async () => {
  const file = path.join(h.tempDir(), 'httpsys-cache.yaml');
  fs.writeFileSync(file, httpsysConfig(8080) + '    cache:\n      default_ttl: 2s\n      max_size: 1MiB\n      stale_while_revalidate: 1s\n');
  const r = await h.runSupervisor(['check', file]);
  assert.strictEqual(r.code, 2, r.stderr);
  const at = file.replace(/[.]/g, '\\.');
  assert.match(r.stderr, new RegExp(`${at}:12:17: apps\\[0\\]\\.cache\\.max_size: app "hello" serves an HTTP\\.SYS listener, where \`cache\` is HTTP\\.SYS's kernel cache and only \`default_ttl\` applies`));
  assert.match(r.stderr, new RegExp(`${at}:13:31: apps\\[0\\]\\.cache\\.stale_while_revalidate: `));
  assert.doesNotMatch(r.stderr, /default_ttl:/);
});

// Under wine: HttpSendHttpResponse takes the policy and ignores it ("Ignoring cache_policy",
// a warning of wine's `http` debug channel, which the worker writes on its stderr and the
// master logs), so every request still reaches a worker. What this proves there: the
// config is accepted and the workers run with it; a cacheable response goes out with the
// policy and is answered whole and right (status, body, headers); responses the rule
// refuses go out without one; and purge says plainly that wine has no cache to flush.
// What only a real Windows host can show (hits, the registry limits, flushing) is listed
// in docs/windows.md.
const POLICY_IGNORED = /Ignoring cache_policy/;
test('HTTP.SYS with cache: cacheable responses carry HTTP_CACHE_POLICY and are answered right; purge says what it can do', { skip: !h.WINDOWS && 'needs Windows (wine): HTTP.SYS' }, async () => {
  const port = await h.freePort();
  const yaml = httpsysConfig(port, 2) + '    cache: {default_ttl: 2s}\n';
  const sup = await h.startSupervisor(yaml, { ready: 2, env: { WINEDEBUG: '-all,warn+http' } });
  try {
    const policies = (from) => sup.log.lines.slice(from).filter((l) => POLICY_IGNORED.test(l)).length;
    // Cacheable (public, max-age=60), three times: each answered whole, by slot 1's worker.
    const before = sup.log.mark();
    for (let i = 0; i < 3; i++) {
      const r = await h.request({ port, path: '/1/cached' });
      assert.strictEqual(r.status, 200, r.body);
      assert.strictEqual(r.body, 'Hello, world!');
      assert.strictEqual(r.headers['cache-control'], 'public, max-age=60');
      assert.strictEqual(r.headers['content-type'], 'text/plain');
      assert.strictEqual(r.headers['content-length'], String('Hello, world!'.length));
      assert.ok(r.headers.date, 'HTTP.SYS dates it');
      assert.deepStrictEqual([h.workerOf(r).app, h.workerOf(r).slot], ['hello', 1]);
    }
    const three = await h.eventually(async () => ({ ok: policies(before) >= 3, n: policies(before) }));
    assert.strictEqual(three.n, 3, sup.log.lines.slice(before).join('\n'));
    // Not cacheable: a response without Cache-Control, a query, a POST, Authorization.
    const mark = sup.log.mark();
    assert.strictEqual((await h.request({ port, path: '/2/pid' })).status, 200);
    assert.strictEqual((await h.request({ port, path: '/2/cached?x=1' })).body, 'Hello, world!');
    assert.strictEqual((await h.request({ port, path: '/2/echo', method: 'POST', body: 'abc' })).body, 'abc');
    assert.strictEqual((await h.request({ port, path: '/2/cached', headers: { authorization: 'Basic dTpw' } })).status, 200);
    // Then one that is: the worker's stderr keeps its order, so once its warning is in the
    // log every earlier one is too, and it is the only one.
    assert.strictEqual((await h.request({ port, path: '/2/cached' })).status, 200);
    await sup.log.waitFor(POLICY_IGNORED, { from: mark });
    await new Promise((r) => setTimeout(r, 300));
    assert.strictEqual(policies(mark), 1, sup.log.lines.slice(mark).join('\n'));
    // wine never refused the policy: no fallback was needed.
    assert.ok(!sup.log.lines.some((l) => /refused HttpSendHttpResponse with a cache policy/.test(l)));

    // purge: wine's HttpFlushResponseCache is an unimplemented stub (it would abort the
    // master): the reply says it is not supported, the master serves on.
    const purge = await h.cli(sup, ['cache', 'purge', 'hello', '/1/']);
    assert.notStrictEqual(purge.code, 0, purge.stdout);
    assert.match(purge.stdout + purge.stderr, /hello: HTTP\.SYS kernel cache: flushing is not supported here: wine's HTTP\.SYS has no kernel cache to flush/);
    assert.strictEqual((await h.request({ port, path: '/1/cached' })).body, 'Hello, world!');
    // A roll flushes too, where it can: under wine it logs why not, and serves on.
    const rolled = sup.log.mark();
    sup.child.kill('SIGHUP');
    await sup.log.waitFor(/event=kernel_cache_flush app=hello why=roll ok=false detail=".*not supported here/, { from: rolled });
    await sup.log.waitFor(/event=reload_done app=hello/, { from: rolled });
    // Once the old workers are gone: a request that reaches a draining worker's pending
    // receive is a separate matter (docs/windows.md, "Known limits").
    for (const slot of [1, 2]) await sup.log.waitFor(new RegExp(`event=exit app=hello slot=${slot} pid=\\d+ generation=1 `), { from: rolled });
    assert.strictEqual((await h.request({ port, path: '/2/cached' })).body, 'Hello, world!');
  } finally {
    await sup.stop();
  }
});
