'use strict';
// The frameworks people build Node apps with, from their real npm packages
// (tests/apps, `npm ci` there), each app handed to serve() as its framework gives it,
// served through the real supervisor by 2 workers: Express 4 and 5, Fastify 5, Koa (the
// app and app.callback()), ws on an http.Server's upgrade, an https.Server and a plain
// net.Server. Requests go on keep-alive connections under round_robin (an L4 rule: a
// connection stays with the worker it was handed to). Workers run on the test's own
// Node (h.NODE), so one run of this file proves one Node version.

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const https = require('node:https');
const net = require('node:net');
const path = require('node:path');
const h = require('./helpers');

const APPS = path.join(h.ROOT, 'tests', 'apps');
const NODE_MODULES = path.join(APPS, 'node_modules');
const STREAM_LINES = Array.from({ length: 64 }, (_, i) => `line ${i} ${'.'.repeat(1000)}\n`).join(''); // common.js lines()

function installed() {
  assert.ok(fs.existsSync(path.join(NODE_MODULES, '.package-lock.json')), `${NODE_MODULES} is missing: run \`cd tests/apps && npm ci\``);
}

// 2 workers of tests/apps/SCRIPT with its arguments, round_robin by the master: the tests
// reach each worker by its turn (the kernel's spread by 4-tuple promises no order;
// kernel-dispatch.test.js tests that intake).
function cluster(port, [script, ...args]) {
  return h.config({ port, command: [h.NODE, path.join(APPS, script), ...args], workers: 2, extra: '    dispatch: master\n' });
}

// One request on `agent` (a keep-alive agent with one socket: every request of a loop
// goes on the same connection); `via` is http or https.
function call(agent, port, { method = 'GET', path: p = '/', body, headers = {}, via = http } = {}) {
  return new Promise((resolve, reject) => {
    const req = via.request({ host: '127.0.0.1', port, method, path: p, agent, headers }, (res) => {
      const chunks = [];
      const localPort = res.socket.localPort;
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString(), localPort }));
      res.on('error', reject);
    });
    req.setTimeout(h.TIMEOUT, () => req.destroy(new Error(`${method} ${p} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

// A WebSocket client that queues what it receives. next(): the next message, or an error
// once the socket has closed or after h.TIMEOUT; upgraded: the handshake's
// X-Handoff-Worker; closed: {code, reason}.
function client(WebSocket, url) {
  const ws = new WebSocket(url);
  const queue = [];
  let waiter = null;
  let ended = null;
  const settle = () => {
    if (!waiter) return;
    if (queue.length > 0) waiter.resolve(queue.shift());
    else if (ended) waiter.reject(ended);
    else return;
    clearTimeout(waiter.timer);
    waiter = null;
  };
  ws.on('message', (data, isBinary) => {
    queue.push({ data, isBinary });
    settle();
  });
  ws.on('error', (error) => {
    ended ??= error;
    settle();
  });
  ws.upgraded = new Promise((resolve, reject) => {
    ws.once('upgrade', (res) => resolve(res.headers['x-handoff-worker']));
    ws.once('error', reject);
  });
  ws.closed = new Promise((resolve) =>
    ws.once('close', (code, reason) => {
      ended ??= new Error(`closed (${code})`);
      settle();
      resolve({ code, reason: String(reason) });
    }),
  );
  ws.next = () =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        waiter = null;
        reject(new Error(`no message in ${h.TIMEOUT} ms`));
      }, h.TIMEOUT);
      waiter = { resolve, reject, timer };
      settle();
    });
  return ws;
}

const FRAMEWORKS = [
  { name: 'Express 4', args: ['express-app.js', 'express'], framework: 'express', major: '4', statics: true },
  { name: 'Express 5', args: ['express-app.js', 'express5'], framework: 'express', major: '5', statics: true },
  { name: 'Fastify 5 (serve(fastify))', args: ['fastify-app.js'], framework: 'fastify', major: '5', booted: true },
  { name: 'Koa 2 (serve(app))', args: ['koa-app.js', 'app'], framework: 'koa', major: '2' },
  { name: 'Koa 2 (serve(app.callback()))', args: ['koa-app.js', 'callback'], framework: 'koa', major: '2' },
];

for (const fw of FRAMEWORKS) {
  test(`${fw.name}: JSON, a POSTed JSON body${fw.statics ? ', a static file' : ''}, a streamed response, on a keep-alive connection to each of 2 workers`, async (t) => {
    installed();
    const port = await h.freePort();
    const sup = await h.startSupervisor(cluster(port, fw.args), { ready: 2 });
    t.after(() => sup.stop());
    const agents = [0, 1].map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
    t.after(() => agents.forEach((a) => a.destroy()));

    const workers = [];
    for (const agent of agents) {
      const answeredBy = new Set();
      const connections = new Set();
      const seen = (res) => {
        answeredBy.add(res.headers['x-handoff-worker']);
        connections.add(res.localPort);
        return res;
      };
      if (fw.booted) {
        // The connection's first request: a route of a plugin that boots asynchronously.
        // The worker said `ready` only once fastify.ready() resolved, so it is there.
        const booted = seen(await call(agent, port, { path: '/booted' }));
        assert.equal(booted.status, 200, booted.body);
        assert.deepEqual(JSON.parse(booted.body), { booted: true });
      }
      for (let round = 0; round < 2; round++) {
        const json = seen(await call(agent, port, { path: '/json' }));
        assert.equal(json.status, 200, json.body);
        assert.match(json.headers['content-type'], /^application\/json/);
        const answer = JSON.parse(json.body);
        assert.equal(answer.framework, fw.framework);
        assert.equal(answer.version.split('.')[0], fw.major, `${fw.framework} ${answer.version}`);
        assert.equal(answer.slot, h.workerOf(json).slot);

        const payload = { round, items: Array.from({ length: 300 }, (_, i) => ({ i, name: `item ${i}` })) };
        const body = JSON.stringify(payload);
        const echo = seen(
          await call(agent, port, {
            method: 'POST',
            path: '/echo',
            body,
            headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
          }),
        );
        assert.equal(echo.status, 200, echo.body);
        assert.deepEqual(JSON.parse(echo.body), { received: payload });

        if (fw.statics) {
          const file = seen(await call(agent, port, { path: '/static/hello.txt' }));
          assert.equal(file.status, 200, file.body);
          assert.equal(file.body, fs.readFileSync(path.join(APPS, 'public', 'hello.txt'), 'utf8'));
          assert.match(file.headers['content-type'], /^text\/plain/);
          const again = seen(await call(agent, port, { path: '/static/hello.txt', headers: { 'If-None-Match': file.headers.etag } }));
          assert.equal(again.status, 304);
        }

        const stream = seen(await call(agent, port, { path: '/stream' }));
        assert.equal(stream.status, 200);
        assert.equal(stream.headers['transfer-encoding'], 'chunked');
        assert.equal(stream.body, STREAM_LINES);
      }
      assert.equal(connections.size, 1, 'every request of a loop went on one connection');
      assert.equal(answeredBy.size, 1, `one worker answered a connection: ${[...answeredBy]}`);
      workers.push(h.workerOf({ headers: { 'x-handoff-worker': [...answeredBy][0] } }));
    }
    // round_robin: the two connections went to the two workers, children of the master.
    assert.deepEqual(workers.map((w) => w.slot).sort(), [1, 2]);
    for (const w of workers) assert.equal(h.parentPid(w.pid), sup.pid);

    agents.forEach((a) => a.destroy());
    await sup.stop();
    if (fw.framework === 'fastify') {
      // Each drained worker ran fastify.close(), and so its onClose hooks.
      for (const w of workers) await sup.log.waitFor(new RegExp(`line="fastify onClose hello/${w.slot}/${w.pid}"$`));
    }
  });
}

const WS_MODES = [
  ['upgrade', "through the http.Server's upgrade handler"],
  ['attached', 'attached to the http.Server (new WebSocketServer({ server }))'],
];

for (const [mode, how] of WS_MODES) {
  test(`ws: a WebSocket echo ${how}, on each of 2 workers; a drain closes them with 1001`, async (t) => {
    installed();
    const { WebSocket } = require(path.join(NODE_MODULES, 'ws'));
    const port = await h.freePort();
    const sup = await h.startSupervisor(cluster(port, ['ws-app.js', mode]), { ready: 2 });
    t.after(() => sup.stop());

    const sockets = [];
    t.after(() => sockets.forEach((ws) => ws.terminate()));
    const slots = new Set();
    for (let i = 0; i < 4; i++) {
      const ws = client(WebSocket, `ws://127.0.0.1:${port}/echo`);
      sockets.push(ws);
      const upgraded = await ws.upgraded;
      const hello = await ws.next();
      assert.equal(JSON.parse(hello.data).hello, upgraded);
      slots.add(h.workerOf({ headers: { 'x-handoff-worker': upgraded } }).slot);

      ws.send(`ping ${i}`);
      const text = await ws.next();
      assert.equal(text.isBinary, false);
      assert.equal(String(text.data), `ping ${i}`);
      const bytes = Buffer.from(Array.from({ length: 70000 }, (_, j) => (i + j) % 256)); // past a 16-bit length
      ws.send(bytes);
      const binary = await ws.next();
      assert.equal(binary.isBinary, true);
      assert.ok(Buffer.from(binary.data).equals(bytes));
    }
    assert.deepEqual([...slots].sort(), [1, 2]);

    // The supervisor's shutdown drains the workers; the app closes its WebSockets on the
    // SDK's 'drain' event, going away (1001), and the workers then exit.
    const stopped = sup.stop();
    for (const ws of sockets) assert.deepEqual(await ws.closed, { code: 1001, reason: 'worker draining' });
    await stopped;
  });
}

test('an https.Server: TLS on the handed-over sockets, keep-alive, on each of 2 workers', async (t) => {
  installed();
  const dir = h.tempDir();
  const key = path.join(dir, 'key.pem');
  const cert = path.join(dir, 'cert.pem');
  // A throw-away self-signed certificate for 127.0.0.1.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
  { stdio: 'ignore' });
  const port = await h.freePort();
  const sup = await h.startSupervisor(cluster(port, ['https-app.js', key, cert]), { ready: 2 });
  t.after(() => sup.stop());
  const ca = fs.readFileSync(cert);
  const agents = [0, 1].map(() => new https.Agent({ keepAlive: true, maxSockets: 1, ca }));
  t.after(() => agents.forEach((a) => a.destroy()));
  const workers = new Set();
  for (const agent of agents) {
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await call(agent, port, { path: '/', via: https }));
    for (const a of answers) assert.equal(a.status, 200);
    assert.equal(new Set(answers.map((a) => a.localPort)).size, 1);
    assert.equal(new Set(answers.map((a) => a.headers['x-handoff-worker'])).size, 1);
    assert.equal(answers[0].body, 'secure\n');
    workers.add(h.workerOf(answers[0]).slot);
  }
  assert.deepEqual([...workers].sort(), [1, 2]);
  agents.forEach((a) => a.destroy());
  await sup.stop();
});

test('a net.Server (no HTTP): a line echo on each of 2 workers', async (t) => {
  installed();
  const port = await h.freePort();
  const sup = await h.startSupervisor(cluster(port, ['net-app.js']), { ready: 2 });
  t.after(() => sup.stop());
  const slots = new Set();
  for (let i = 0; i < 2; i++) {
    const socket = net.connect(port, '127.0.0.1');
    t.after(() => socket.destroy());
    socket.setEncoding('utf8');
    let received = '';
    let closed = false;
    let wake = () => {};
    socket.on('data', (d) => {
      received += d;
      wake();
    });
    socket.on('close', () => {
      closed = true;
      wake();
    });
    // The first n lines, once they are all there (a dead master takes the workers and
    // so this connection with it: 'close').
    const lines = (n) =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(received)}`)), h.TIMEOUT);
        wake = () => {
          const all = received.split('\n');
          if (all.length - 1 >= n) resolve(all.slice(0, n));
          else if (closed) reject(new Error(`closed; got ${JSON.stringify(received)}`));
          else return;
          clearTimeout(timer);
        };
        wake();
      });
    socket.write('one\ntwo\n');
    const [first, second] = await lines(2);
    const [, worker] = first.match(/^(\S+) one$/) ?? [];
    assert.ok(worker, first);
    assert.equal(second, `${worker} two`);
    slots.add(h.workerOf({ headers: { 'x-handoff-worker': worker } }).slot);
    socket.end();
  }
  assert.deepEqual([...slots].sort(), [1, 2]);
  await sup.stop();
});

test("the cluster.yaml of every recipe in docs/recipes passes `supervisor check`", async () => {
  const recipes = path.join(h.ROOT, 'docs', 'recipes');
  const dir = h.tempDir();
  let checked = 0;
  for (const page of fs.readdirSync(recipes).filter((f) => f.endsWith('.md'))) {
    const blocks = [...fs.readFileSync(path.join(recipes, page), 'utf8').matchAll(/```yaml\n([\s\S]*?)```/g)];
    for (const [i, [, yaml]] of blocks.entries()) {
      if (!/^listeners:/m.test(yaml)) continue; // a fragment of a config shown above it
      // A free port: the recipe's own may be taken on this machine, which check reports.
      const port = await h.freePort();
      const file = path.join(dir, `${page}.${i}.yaml`);
      fs.writeFileSync(file, yaml.replace(/address: 127\.0\.0\.1:\d+/g, `address: 127.0.0.1:${port}`));
      const { code, stdout, stderr } = await h.runSupervisor(['check', file]);
      assert.equal(code, 0, `${page}:\n${yaml}\n${stdout}${stderr}`);
      checked++;
    }
  }
  assert.ok(checked >= 6, `${checked} configs`);
});
