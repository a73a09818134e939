'use strict';
// serve(app, { metrics }): the worker's hello offers metrics, and each `metrics` from the
// master is answered with the registry's text under the same id (worker-sdk/node/metrics.js).

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const { SCRIPTS, forkWorker } = require('./helpers');

const SCRIPT = path.join(__dirname, 'fixtures', 'metrics-server.js');

test('hello says metrics; each `metrics` is answered with the registry under its id', { timeout: 30000 }, async (t) => {
  const master = await forkWorker(t, SCRIPT, { welcome: { app: 'm', slot: 1, workers: 1, generation: 1 } });
  const hello = master.child.messages.find((m) => m && m.handoff === 'hello');
  assert.equal(hello.metrics, true);
  for (const id of [7, 8]) {
    master.child.send({ handoff: 'metrics', v: 1, id });
    const answer = await master.waitMessage((m) => m && m.handoff === 'metrics_text' && m.id === id, `metrics_text ${id}`);
    assert.equal(answer.v, 1);
    assert.equal(answer.sum, undefined);
    assert.match(answer.text, new RegExp(`^fixture_asks_total ${id - 6}$`, 'm'));
  }
});

test('metricsSum: the answer asks the master to add the slots up', { timeout: 30000 }, async (t) => {
  const master = await forkWorker(t, SCRIPT, { env: { METRICS_SUM: '1' } });
  master.child.send({ handoff: 'metrics', v: 1, id: 1 });
  const answer = await master.waitMessage((m) => m && m.handoff === 'metrics_text', 'metrics_text');
  assert.equal(answer.sum, true);
});

test('a `metrics` option without a metrics() method is refused at serve()', () => {
  const script = "require(process.argv[1]).serve(require('node:http').createServer(), { metrics: {} })";
  assert.throws(
    () => execFileSync(process.execPath, ['-e', script, path.join(__dirname, '..', '..', 'worker-sdk', 'node')], { stdio: 'pipe' }),
    (error) => /options\.metrics must be a prom-client Registry/.test(String(error.stderr)),
  );
});

test("the C++ SDK: hello-cpp's hello says metrics and WorkerOptions::metrics answers", { timeout: 30000 }, async (t) => {
  const master = await forkWorker(t, SCRIPTS.helloCpp, { welcome: { app: 'c', slot: 1, workers: 1, generation: 1 } });
  assert.equal(master.child.messages.find((m) => m && m.handoff === 'hello').metrics, true);
  master.child.send({ handoff: 'metrics', v: 1, id: 42 });
  const answer = await master.waitMessage((m) => m && m.handoff === 'metrics_text' && m.id === 42, 'metrics_text');
  assert.match(answer.text, /^# TYPE hello_requests_total counter$/m);
  assert.match(answer.text, /^hello_requests_total 0$/m);
});
