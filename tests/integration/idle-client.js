'use strict';
// Many keep-alive connections that each send one request and then stay idle, as browsers
// leave theirs. Run as its own process (under `prlimit --nofile=...`, since one process
// cannot raise its own hard limit), so the test process keeps its descriptors.
//
//   node idle-client.js '{"port":8080,"count":15000,"addresses":8,"concurrency":200,"hold":false,"waitMs":60000}'
//
// Connects `count` times from 127.0.0.2 .. 127.0.0.(1+addresses) (the source addresses
// spread the ephemeral ports), at most `concurrency` connections at once between connect
// and response, sends `GET <path> HTTP/1.1` on each and reads the response. Prints JSON
// lines on stdout:
//   {"event":"answered", ...} once every connection has its response (or failed);
//   then, without `hold`, waits (at most waitMs) for the server to close every connection
//   and prints {"event":"done", ...} with when each closed: `idleMs` counted from its
//   response, `sinceRequestMs` from the moment its request was written. This process's
//   clock readings come late when it is busy (thousands of sockets, a loaded machine), so
//   `idleMs` may read short by tens of ms; `sinceRequestMs` cannot: the response came
//   after the request, and a late reading of the close only lengthens it. So "not closed
//   before the keep-alive timeout" is checked on `sinceRequestMs`, "closed soon enough" on
//   `idleMs`.
//   with `hold`, keeps them open until the process is killed (bench/keepalive.sh reads
//   the server's memory meanwhile).
// Used by tests/integration/keepalive.test.js and bench/keepalive.sh.

const net = require('node:net');

const options = JSON.parse(process.argv[2] || '{}');
const {
  port,
  count = 1000,
  addresses = 8,
  concurrency = 200,
  hold = false,
  waitMs = 60000,
  path = '/',
  host = '127.0.0.1',
} = options;

const started = performance.now();
const connections = []; // { socket, sentAt, answeredAt, closedAt, status, extra, error }
let active = 0;
let next = 0;
let settled = 0; // answered or failed
let closed = 0;
let answeredReported = false;

function print(obj) {
  process.stdout.write(`${JSON.stringify(obj)}\n`);
}

// Parses the first response on the connection (status line, headers, Content-Length
// body); bytes after it are counted as `extra` (a 408 to an idle socket would show here).
function onData(c, chunk) {
  if (c.answeredAt !== undefined) {
    c.extra += chunk.length;
    c.extraText ??= chunk.toString('latin1').slice(0, 80);
    return;
  }
  c.buffer = c.buffer ? Buffer.concat([c.buffer, chunk]) : chunk;
  const end = c.buffer.indexOf('\r\n\r\n');
  if (end < 0) return;
  const head = c.buffer.subarray(0, end).toString('latin1');
  const length = Number((/\r\ncontent-length:\s*(\d+)/i.exec(head) || [])[1] ?? 0);
  if (c.buffer.length < end + 4 + length) return;
  c.status = Number(head.split(' ')[1]);
  c.keepAlive = (/\r\nkeep-alive:\s*([^\r]*)/i.exec(head) || [])[1] ?? null;
  c.answeredAt = performance.now();
  c.extra = c.buffer.length - (end + 4 + length);
  if (c.extra > 0) c.extraText = c.buffer.subarray(end + 4 + length).toString('latin1').slice(0, 80);
  c.buffer = null;
  settle(c);
}

function settle(c) {
  if (c.settled) return;
  c.settled = true;
  settled++;
  active--;
  openMore();
  if (settled === count) reportAnswered();
}

function openMore() {
  while (active < concurrency && next < count) {
    const i = next++;
    active++;
    const c = { i, extra: 0, settled: false };
    connections.push(c);
    const socket = net.connect({ port, host, localAddress: `127.0.0.${2 + (i % addresses)}` });
    c.socket = socket;
    socket.setNoDelay(true);
    socket.on('connect', () => {
      c.sentAt = performance.now();
      socket.write(`GET ${path} HTTP/1.1\r\nHost: idle\r\n\r\n`);
    });
    socket.on('data', (chunk) => onData(c, chunk));
    socket.on('end', () => {
      c.closedAt ??= performance.now(); // the server's FIN
    });
    socket.on('error', (e) => {
      c.error ??= e.code || e.message;
    });
    socket.on('close', () => {
      c.closedAt ??= performance.now();
      closed++;
      if (!c.settled) settle(c);
      if (!hold && answeredReported && closed === count) finish();
    });
  }
}

function summary(values) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return {
    min: Math.round(sorted[0]),
    median: Math.round(sorted[Math.floor(sorted.length / 2)]),
    max: Math.round(sorted[sorted.length - 1]),
  };
}

function countBy(list, key) {
  const out = {};
  for (const c of list) {
    const k = String(c[key]);
    out[k] = (out[k] || 0) + 1;
  }
  return out;
}

function reportAnswered() {
  answeredReported = true;
  const answered = connections.filter((c) => c.answeredAt !== undefined);
  print({
    event: 'answered',
    count,
    ok: answered.filter((c) => c.status === 200).length,
    statuses: countBy(answered, 'status'),
    errors: countBy(connections.filter((c) => c.error), 'error'),
    closedSoFar: closed,
    keepAlive: answered[0] ? answered[0].keepAlive : null,
    elapsedMs: Math.round(performance.now() - started),
  });
  if (hold) return;
  setTimeout(finish, waitMs).unref();
  if (closed === count) finish();
}

let finished = false;
function finish() {
  if (finished) return;
  finished = true;
  const answered = connections.filter((c) => c.answeredAt !== undefined);
  const closedAfterAnswer = answered.filter((c) => c.closedAt !== undefined);
  const idle = closedAfterAnswer.map((c) => c.closedAt - c.answeredAt);
  const sinceRequest = closedAfterAnswer.map((c) => c.closedAt - c.sentAt);
  const withExtra = connections.filter((c) => c.extra > 0);
  print({
    event: 'done',
    count,
    ok: answered.filter((c) => c.status === 200).length,
    notClosed: connections.filter((c) => c.closedAt === undefined).length,
    idleMs: summary(idle),
    sinceRequestMs: summary(sinceRequest),
    extra: withExtra.length,
    extraSample: withExtra.length ? withExtra[0].extraText : null,
    errors: countBy(connections.filter((c) => c.error), 'error'),
  });
  for (const c of connections) c.socket.destroy();
  process.exit(0);
}

openMore();
