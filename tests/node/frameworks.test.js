'use strict';
// serve() takes what frameworks hand people (tests/apps, their real npm packages; the
// supervisor's side is tests/integration/frameworks.test.js): alone, each app listens as
// with its own listen(); under a master, a Fastify app says `ready` only once
// fastify.ready() resolved, and one that cannot boot dies with its error. Anything
// else is refused with what it was and what to pass instead.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { forkWorker, startWorker, startStandalone, request, exitOf } = require('./helpers');

const APPS = path.resolve(__dirname, '..', 'apps');
const app = (name) => path.join(APPS, name);

function installed() {
  assert.ok(fs.existsSync(path.join(APPS, 'node_modules', '.package-lock.json')), `run \`cd tests/apps && npm ci\` first`);
}

// ---- refusals (in this process: serve() throws before it listens or sets anything) ----

const { serve } = require('../../worker-sdk/node');

const refusals = [
  { given: undefined, got: 'got undefined', hint: 'pass the server (or app) to serve' },
  { given: null, got: 'got null', hint: 'pass the server (or app) to serve' },
  { given: 8080, got: 'got the number 8080', hint: 'serve(server, { port })' },
  { given: '/run/app.sock', got: 'got the string "/run/app.sock"', hint: 'serve(server, { port })' },
  { given: Promise.resolve(), got: 'got a Promise', hint: 'await it first' },
  { given: {}, what: 'a plain object', got: 'got an object', hint: 'pass the http.Server your app serves on' },
  { given: new Map(), got: 'got an object (Map)', hint: 'pass the http.Server' },
  // The shape of a NestJS application (NestJS itself is not installed here).
  { given: new (class NestApplication { getHttpServer() {} })(), got: 'got an object (NestApplication)', hint: 'await app.init()`, then serve(app.getHttpServer())' },
  { given: { listen() {} }, what: 'an object with listen()', got: 'got an object', hint: 'an app with its own listen()' },
];

for (const { given, what, got, hint } of refusals) {
  test(`serve() refuses ${what ?? got.slice(4)}, saying what to pass instead`, () => {
    assert.throws(
      () => serve(given),
      (error) => {
        assert.ok(error instanceof TypeError);
        assert.ok(error.message.startsWith(`serve(): ${got};`), error.message);
        assert.ok(error.message.includes(hint), error.message);
        assert.ok(error.message.includes('serve() takes an http.Server'), error.message);
        return true;
      },
    );
  });
}

test("serve() refuses Koa's app.callback not called (it would run without its app)", () => {
  installed();
  const Koa = require(path.join(APPS, 'node_modules', 'koa'));
  const koa = new Koa();
  assert.throws(() => serve(koa.callback), /^TypeError: serve\(\): got a function \(callback\); this is Koa's app.callback itself, not called: pass serve\(app.callback\(\)\) or the app, serve\(app\)/);
});

// ---- standalone: each app listens by itself ----

const STANDALONE = [
  { name: 'Express 4', script: 'express-app.js', args: ['express'], version: /^4\./ },
  { name: 'Express 5', script: 'express-app.js', args: ['express5'], version: /^5\./ },
  { name: 'Fastify 5', script: 'fastify-app.js', args: [], version: /^5\./ },
  { name: 'Koa (the app)', script: 'koa-app.js', args: ['app'], version: /^2\./ },
  { name: 'Koa (app.callback())', script: 'koa-app.js', args: ['callback'], version: /^2\./ },
];

for (const { name, script, args, version } of STANDALONE) {
  test(`standalone: ${name} listens on PORT by itself`, { timeout: 30000 }, async (t) => {
    installed();
    const { child, port } = await startStandalone(t, app(script), { args });
    const res = await request(port, { path: '/json', headers: { connection: 'close' } });
    assert.equal(res.status, 200);
    assert.match(JSON.parse(res.body).version, version);
    assert.equal(res.headers['x-handoff-worker'], `standalone/0/${child.pid}`);
    if (script === 'fastify-app.js') {
      // fastify.listen() booted the plugins first.
      const booted = await request(port, { path: '/booted', headers: { connection: 'close' } });
      assert.equal(booted.status, 200);
    }
  });
}

test('standalone: ws on an http.Server listens by itself', { timeout: 30000 }, async (t) => {
  installed();
  const { WebSocket } = require(path.join(APPS, 'node_modules', 'ws'));
  const { child, port } = await startStandalone(t, app('ws-app.js'));
  const ws = new WebSocket(`ws://127.0.0.1:${port}/echo`);
  t.after(() => ws.terminate());
  const [hello] = await new Promise((resolve, reject) => {
    ws.once('message', (...m) => resolve(m));
    ws.once('error', reject);
  });
  assert.deepEqual(JSON.parse(hello), { hello: `standalone/0/${child.pid}` });
});

// ---- under a master: Fastify's boot ----

test('Fastify under a master: `ready` only after fastify.ready(), and the first connection finds the booted routes', { timeout: 30000 }, async (t) => {
  installed();
  const master = await startWorker(t, app('fastify-app.js'), { env: { FASTIFY_BOOT_MS: '500' } });
  const hello = master.messages.findIndex((m) => m && m.handoff === 'hello');
  const ready = master.messages.findIndex((m) => m && m.handoff === 'ready');
  assert.ok(hello >= 0 && ready > hello, JSON.stringify(master.messages));
  // Had the worker said `ready` before its plugin booted, this route would not exist yet.
  const res = await request(master.port, { path: '/booted', headers: { connection: 'close' } });
  assert.equal(res.status, 200);
  assert.deepEqual(JSON.parse(res.body), { booted: true });
});

test('Fastify under a master: a plugin that fails to boot ends the worker with its error, never `ready`', { timeout: 30000 }, async (t) => {
  installed();
  const master = await forkWorker(t, app('fastify-app.js'), { handshake: false, env: { FASTIFY_BOOT_MS: '0', FASTIFY_BOOT_ERROR: 'no database' } });
  const { code } = await exitOf(master.child);
  assert.notEqual(code, 0);
  assert.match(master.child.output, /Error: no database/);
  assert.ok(master.messages.some((m) => m && m.handoff === 'hello'));
  assert.ok(!master.messages.some((m) => m && m.handoff === 'ready'), JSON.stringify(master.messages));
});

test('Fastify under a master: a drain before the boot ends leaves the worker never `ready`; it exits 0', { timeout: 30000 }, async (t) => {
  installed();
  // A boot far longer than the test: only the drain's deadline ends the process.
  const master = await forkWorker(t, app('fastify-app.js'), { handshake: false, env: { FASTIFY_BOOT_MS: '600000' } });
  await master.waitMessage((m) => m && m.handoff === 'hello', 'hello');
  master.drain(1000);
  const { code, signal } = await exitOf(master.child);
  assert.deepEqual({ code, signal }, { code: 0, signal: null });
  assert.ok(!master.messages.some((m) => m && m.handoff === 'ready'), JSON.stringify(master.messages));
});
