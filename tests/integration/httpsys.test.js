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
