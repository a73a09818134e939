'use strict';
// The apps' own metrics on the master's /metrics (README "The apps' own metrics"): Node
// workers with the real prom-client (serve(app, { metrics: register })) and hello-cpp's
// WorkerOptions::metrics, merged with `app` and `slot` labels or summed, checked by
// promtool; a worker whose loop is stuck costs a scrape about 1 s and shows as down.
// One supervisor for the whole file.

const { test, before, after } = require('node:test');
const assert = require('node:assert');
const http = require('node:http');
const path = require('node:path');
const { execFileSync, spawnSync } = require('node:child_process');
const h = require('./helpers');

const PROMTOOL = execFileSync(path.join(h.ROOT, 'tools/promtool/promtool.sh'), ['path'], { encoding: 'utf8' }).trim();
const PROM_WORKER = path.join(h.ROOT, 'tests/apps/prom-worker.js');

let sup;
const ports = {};

before(async () => {
  for (const name of ['prom', 'sum', 'cpp', 'admin']) ports[name] = await h.freePort();
  sup = await h.startSupervisor(`listeners:
  - {address: "127.0.0.1:${ports.prom}", name: prom}
  - {address: "127.0.0.1:${ports.sum}", name: sum}
  - {address: "127.0.0.1:${ports.cpp}", name: cpp}
apps:
  - name: prom
    command: ${JSON.stringify([h.NODE, PROM_WORKER])}
    workers: 2
    listeners: [prom]
    env: {PROM_DEFAULTS: "1"}
  - name: promsum
    command: ${JSON.stringify([h.NODE, PROM_WORKER])}
    workers: 2
    listeners: [sum]
    env: {METRICS_SUM: "1"}
  - name: cpp
    command: ${JSON.stringify([h.HELLO_CPP])}
    workers: 1
    listeners: [cpp]
admin: 127.0.0.1:${ports.admin}
`);
  for (const [app, slots] of [['prom', 2], ['promsum', 2], ['cpp', 1]])
    for (let slot = 1; slot <= slots; slot++) await sup.log.waitFor(new RegExp(`event=ready app=${app} slot=${slot} `));
});
after(() => sup.stop());

function scrape() {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    http
      .get({ host: '127.0.0.1', port: ports.admin, path: '/metrics', agent: false }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode, body, ms: performance.now() - started }));
      })
      .on('error', reject);
  });
}

// The value of the sample `name{labels}` whose labels are exactly `labels`, or undefined.
function sample(text, name, labels) {
  const want = `${name}{${Object.entries(labels).map(([k, v]) => `${k}="${v}"`).join(',')}} `;
  const line = text.split('\n').find((l) => l.startsWith(want));
  return line === undefined ? undefined : Number(line.slice(want.length));
}

// Sends `n` requests to `port`; returns how many each slot answered.
// `n` requests, more until `slots` slots answered (at most 64: the kernel spreads SDK
// workers' connections by 4-tuple, not in strict turns).
async function hits(port, n, slots = 0) {
  const bySlot = {};
  for (let i = 0; i < n || (Object.keys(bySlot).length < slots && i < 64); i++) {
    const r = await h.request({ port, path: '/hit', headers: { connection: 'close' } });
    assert.strictEqual(r.status, 200);
    const slot = r.headers['x-handoff-worker'].split('/')[1];
    bySlot[slot] = (bySlot[slot] ?? 0) + 1;
  }
  return bySlot;
}

test('each worker registry shows with its app and slot, once per family, and promtool passes', async () => {
  const bySlot = await hits(ports.prom, 6);
  const { status, body } = await scrape();
  assert.strictEqual(status, 200);
  for (const [slot, n] of Object.entries(bySlot))
    assert.strictEqual(sample(body, 'app_requests_total', { app: 'prom', slot, path: '/hit' }), n, body);
  for (const slot of ['1', '2']) {
    assert.strictEqual(sample(body, 'handoff_app_metrics_up', { app: 'prom', slot }), 1);
    assert.ok(sample(body, 'process_cpu_user_seconds_total', { app: 'prom', slot }) >= 0, 'prom-client default metrics');
  }
  assert.strictEqual(body.match(/^# TYPE app_requests_total counter$/gm).length, 1);
  assert.strictEqual(body.match(/^# TYPE nodejs_heap_space_size_used_bytes gauge$/gm).length, 1);
  assert.match(body, /^handoff_handoff_latency_seconds_count\{/m, "the master's own metrics too");
  const lint = spawnSync(PROMTOOL, ['check', 'metrics'], { input: body, encoding: 'utf8' });
  // prom-client names two gauges *_total (nodejs_active_*_total): promtool's only remarks.
  const remarks = `${lint.stdout}${lint.stderr}`.split('\n').filter((l) => l.trim() !== '');
  const unexpected = remarks.filter((l) => !/^nodejs_active_\w+_total non-counter metrics should not have "_total" suffix$/.test(l));
  assert.deepStrictEqual(unexpected, [], `promtool:\n${remarks.join('\n')}`);
  // 3: lint remarks alone (1 would be a format error).
  assert.ok(lint.status === 0 || (lint.status === 3 && remarks.length > 0), `promtool exit ${lint.status}`);
});

test("hello-cpp's WorkerOptions::metrics callback reaches /metrics", async () => {
  for (let i = 0; i < 3; i++) await h.request({ port: ports.cpp, path: '/', headers: { connection: 'close' } });
  const { body } = await scrape();
  assert.ok(sample(body, 'hello_requests_total', { app: 'cpp', slot: '1' }) >= 3, body);
  assert.strictEqual(sample(body, 'handoff_app_metrics_up', { app: 'cpp', slot: '1' }), 1);
  const head = await h.request({ port: ports.admin, path: '/metrics', method: 'HEAD' });
  assert.strictEqual(head.status, 200);
  assert.match(head.headers['content-type'], /^text\/plain; version=0\.0\.4/);
  assert.ok(Number(head.headers['content-length']) > 1000, head.headers['content-length']);
  assert.strictEqual(head.body, '');
});

test('metricsSum: the slots are added up under the app label alone', async () => {
  const bySlot = await hits(ports.sum, 4, 2);
  assert.strictEqual(Object.keys(bySlot).length, 2, JSON.stringify(bySlot));
  const total = Object.values(bySlot).reduce((a, b) => a + b, 0);
  const { body } = await scrape();
  assert.strictEqual(sample(body, 'app_requests_total', { app: 'promsum', path: '/hit' }), total, body);
  assert.doesNotMatch(body, /^app_requests_total\{app="promsum",slot=/m);
  assert.strictEqual(sample(body, 'handoff_app_metrics_up', { app: 'promsum', slot: '2' }), 1);
});

test('a worker whose loop is stuck costs the scrape about 1 s and shows as down', async () => {
  // Blocked 3 s: the scrape's 1 s bound ends well before the worker could answer, even on
  // a busy machine; up 0 proves the scrape did not wait for it.
  const mark = sup.log.mark();
  const blocked = h.request({ port: ports.prom, path: '/block?ms=3000', headers: { connection: 'close' } });
  const [, slot] = await sup.log.waitFor(/event=output app=prom slot=(\d) pid=\d+ stream=stdout line=blocking/, { from: mark });
  const { status, body, ms } = await scrape();
  assert.strictEqual(status, 200);
  assert.ok(ms >= 800 && ms < 2900, `the scrape took ${ms} ms`);
  assert.strictEqual(sample(body, 'handoff_app_metrics_up', { app: 'prom', slot }), 0, body);
  assert.strictEqual(sample(body, 'handoff_app_metrics_up', { app: 'prom', slot: slot === '1' ? '2' : '1' }), 1);
  assert.strictEqual(sample(body, 'handoff_app_metrics_up', { app: 'cpp', slot: '1' }), 1);
  assert.match(body, /^handoff_handoff_latency_seconds_count\{/m);
  await sup.log.waitFor(new RegExp(`event=app_metrics app=prom slot=${slot} up=0 reason=timeout`), { from: mark });
  assert.strictEqual((await blocked).status, 200);
  // Its late answer went nowhere; the next scrape has it again.
  assert.strictEqual(sample((await scrape()).body, 'handoff_app_metrics_up', { app: 'prom', slot }), 1);
});
