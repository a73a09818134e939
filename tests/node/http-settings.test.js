'use strict';
// The app's `http:` settings arrive in `welcome` and the SDK sets them on the http.Server:
// keep-alive timeout, headers and request timeouts, requests per socket, head and body
// sizes. Real worker process, real sockets, the test playing the master.

const test = require('node:test');
const assert = require('node:assert/strict');
const http = require('node:http');
const path = require('node:path');
const { SCRIPTS, startWorker, request, RawClient, waitFor } = require('./helpers');
const { HTTP_SETTINGS } = require('../../worker-sdk/node/http-settings');

const HTTP = {
  keep_alive_timeout_ms: 1500,
  headers_timeout_ms: 1000,
  request_timeout_ms: 2000,
  max_requests_per_socket: 3,
  max_header_size: 2048,
  max_body_size: 100,
};
const WELCOME = { app: 'hello', slot: 1, workers: 1, generation: 1, http: HTTP };

async function settled(master) {
  // The welcome is applied once the worker has read it; a request after it proves that.
  const res = await request(master.port, { path: '/settings', headers: { connection: 'close' } });
  return JSON.parse(res.body.toString());
}

test('welcome.http sets the server; the program value it replaces is named on stderr', { timeout: 30000 }, async (t) => {
  // The fixture sets keepAliveTimeout = 120000 itself; everything else is Node's default.
  const master = await startWorker(t, SCRIPTS.echo, { welcome: WELCOME });
  assert.deepEqual(await settled(master), {
    keepAliveTimeout: 1500,
    headersTimeout: 1000,
    requestTimeout: 2000,
    maxRequestsPerSocket: 3,
    maxHeaderSize: 2048,
  });
  assert.match(
    master.child.output,
    /handoff-worker: server\.keepAliveTimeout 120000 set by the program is replaced by the supervisor's http\.keep_alive_timeout \(1500\)/,
  );
  assert.doesNotMatch(master.child.output, /server\.headersTimeout/); // it was Node's default
});

test('a welcome without http leaves the program its own values', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.echo, { welcome: { ...WELCOME, http: undefined } });
  const settings = await settled(master);
  assert.equal(settings.keepAliveTimeout, 120000);
  assert.equal(settings.headersTimeout, 60000);
});

test('an idle keep-alive socket is closed after keep_alive_timeout, announced, and never gets a 408', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.echo, { welcome: WELCOME });
  await settled(master);
  const client = await RawClient.connect(master.port);
  t.after(() => client.close());
  client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  const res = await client.response();
  const answered = performance.now();
  assert.equal(res.status, 200);
  assert.equal(res.headers['keep-alive'], 'timeout=1, max=3');
  if (!client.closed) await waitFor(client.socket, 'close', { what: 'the server to close the idle socket' });
  const idle = performance.now() - answered;
  // Node closes at keepAliveTimeout + 1 s (its own margin against the client's race).
  assert.ok(idle >= HTTP.keep_alive_timeout_ms - 20 && idle <= HTTP.keep_alive_timeout_ms + 2000, `closed after ${idle} ms`);
  assert.equal(client.buffer.length, 0, `nothing after the response: ${client.buffer.toString('latin1')}`);
});

test('half a head gets 408 at headers_timeout, not 30 s later', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.echo, { welcome: WELCOME });
  await settled(master);
  const client = await RawClient.connect(master.port);
  t.after(() => client.close());
  const started = performance.now();
  client.write('GET / HTTP/1.1\r\nHost:');
  const res = await client.response();
  const waited = performance.now() - started;
  assert.equal(res.status, 408);
  // Checked every tenth of the shorter timeout (100 ms here).
  assert.ok(waited >= HTTP.headers_timeout_ms - 20 && waited <= HTTP.headers_timeout_ms + 1000, `408 after ${waited} ms`);
});

test('max_body_size: a larger Content-Length gets 413 before the app; a larger chunked body is cut', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.echo, { welcome: WELCOME });
  await settled(master);
  const fits = await request(master.port, { method: 'POST', path: '/echo', body: 'x'.repeat(100) });
  assert.equal(fits.status, 200);
  assert.equal(JSON.parse(fits.body.toString()).length, 100);

  const declared = await request(master.port, { method: 'POST', path: '/echo', body: 'x'.repeat(101) });
  assert.equal(declared.status, 413);
  assert.equal(declared.body.toString(), 'Content Too Large\n'); // the SDK's answer, not the app's
  assert.equal(declared.headers.connection, 'close');

  const client = await RawClient.connect(master.port);
  t.after(() => client.close());
  client.write('POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n' + 'y'.repeat(64) + '\r\n');
  client.write('40\r\n' + 'y'.repeat(64) + '\r\n0\r\n\r\n');
  await assert.rejects(client.response(), /connection closed/);
});

test('max_requests_per_socket: the last allowed response says close', { timeout: 30000 }, async (t) => {
  // Node's agent keeps a socket for the announced timeout less a second: 1 s would be none.
  const master = await startWorker(t, SCRIPTS.echo, { welcome: { ...WELCOME, http: { ...HTTP, keep_alive_timeout_ms: 5000 } } });
  await settled(master);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.after(() => agent.destroy());
  const responses = [];
  for (let i = 0; i < 4; i++) responses.push(await request(master.port, { agent }));
  assert.deepEqual(
    responses.map((r) => r.headers.connection),
    ['keep-alive', 'keep-alive', 'close', 'keep-alive'],
  );
  assert.equal(responses[0].localPort, responses[2].localPort);
  assert.notEqual(responses[2].localPort, responses[3].localPort); // a new connection after the close
});

test('max_header_size: a larger head gets 431', { timeout: 30000 }, async (t) => {
  const master = await startWorker(t, SCRIPTS.echo, { welcome: WELCOME });
  await settled(master);
  const client = await RawClient.connect(master.port);
  t.after(() => client.close());
  client.write(`GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${'b'.repeat(3000)}\r\n\r\n`);
  assert.equal((await client.response()).status, 431);
});

test("the SDK's list of settings is the master's (tests/fixtures/http-settings.json, checked against protocols/http_settings.h)", () => {
  const fixture = require(path.join(__dirname, '..', 'fixtures', 'http-settings.json')).settings;
  assert.deepEqual(
    HTTP_SETTINGS.map(({ config, wire, unit }) => ({ config, wire, unit })),
    fixture,
  );
});
