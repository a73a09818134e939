'use strict';
// A socket.io app as users write one, run by the supervisor in
// tests/integration/socketio.test.js: the real socket.io (tests/apps/node_modules) on the
// Node SDK, with socketio(io) so that sessions come back to the worker that issued them.
//
// Environment (set by the test's config):
//   SOCKETIO_ROUTED=0   leave engine.io's session ids alone (the failure socketio() fixes)
//   SOCKETIO_COOKIE=1   socket.io's `cookie` option: the session id also in the `io` cookie
//   SOCKETIO_MAX_WORKERS=N  socketio(io, {maxWorkers: N})
//   SOCKETIO_IDS=base64 the app's own generateId, set after socketio(io), with ids that the
//                       client must percent-encode (each has '+' and '/')
//   SOCKETIO_IDS=constant a generateId that returns one id, always (socketio() gives up)
//
// Events: 'whoami' (ack: where the session lives), 'echo' (ack: size and SHA-256 of what
// arrived), 'shout' (to a room, with the default in-memory adapter: this worker's sockets
// only). A session's `room` handshake query joins that room at once.

const crypto = require('node:crypto');
const http = require('node:http');
const { Server } = require('socket.io');
const { serve, socketio, worker } = require('../../../worker-sdk/node');

const httpServer = http.createServer();
const io = new Server(httpServer, {
  maxHttpBufferSize: 4e6, // engine.io's default (1e6) refuses a 1 MB message
  cookie: process.env.SOCKETIO_COOKIE === '1' ? { name: 'io' } : false,
});
const maxWorkers = process.env.SOCKETIO_MAX_WORKERS ? Number(process.env.SOCKETIO_MAX_WORKERS) : undefined;
if (process.env.SOCKETIO_ROUTED !== '0') socketio(io, { maxWorkers });
if (process.env.SOCKETIO_IDS === 'base64') {
  io.engine.generateId = () => `id+/${crypto.randomBytes(15).toString('base64')}`;
} else if (process.env.SOCKETIO_IDS === 'constant') {
  io.engine.generateId = () => 'always-the-same';
}

// Test instrumentation, not something an app needs: connections that arrived with bytes
// already read (`head`), i.e. requests another worker handed back to the master on a
// keep-alive connection (the master only peeks at the ones it routes first).
let carried = 0;
process.on('message', (m) => {
  if (m && m.handoff === 'conn' && typeof m.head === 'string' && m.head !== '') carried++;
});

const where = () => ({ slot: worker.slot, pid: process.pid, generation: worker.generation, carried });

// Sessions whose client closed them here (its close packet: engine.io's "transport close").
// A long-polling client's last poll GET can come after its close packet: both are in flight
// when it closes, on two connections (the GET often on a new one, the close POST on a kept
// one, already in this worker), and no one orders two connections, with or without a
// master in front. engine.io answers that GET "Session ID unknown", in the right worker: it
// is logged apart, as late, not as a session's request that reached a worker that never
// had it. Bounded: the tests make at most a few thousand sessions per worker.
const closedHere = new Set();
io.engine.on('connection', (conn) => {
  conn.on('close', (reason) => {
    if (reason !== 'transport close') return;
    if (closedHere.size >= 100000) closedHere.clear();
    closedHere.add(conn.id);
  });
});

// "Session ID unknown" and every other refusal, counted by the test from the log.
io.engine.on('connection_error', (err) => {
  const why = err.context?.error?.message ?? '';
  // Which request got it (method, URL with its sid and transport): what a failing test prints.
  const req = err.req ? `${err.req.method} ${err.req.url}` : '';
  const sid = err.req?._query?.sid;
  const kind = err.code === 1 && closedHere.has(sid) ? 'late_request' : 'connection_error';
  console.error(`socketio ${kind} code=${err.code} message=${JSON.stringify(err.message)} ${why} request=${JSON.stringify(req)}`);
});

io.on('connection', (socket) => {
  const room = socket.handshake.query.room;
  if (typeof room === 'string' && room !== '') socket.join(room);
  socket.on('whoami', (ack) => ack({ ...where(), sid: socket.conn.id, transport: socket.conn.transport.name }));
  socket.on('echo', (data, ack) => {
    const bytes = typeof data === 'string' ? Buffer.from(data) : data;
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    ack({ ...where(), bytes: bytes.length, sha256, transport: socket.conn.transport.name });
  });
  socket.on('shout', (name, text, ack) => {
    io.to(name).emit('shout', { ...where(), room: name, text });
    ack(where());
  });
});

const handoff = serve(httpServer);
// Retiring (reload, scale-down, recycling, shutdown): close every session's transport so
// that its client reconnects now, to a worker that serves, instead of being cut at
// drain_timeout. Not io.disconnectSockets(true): its clients see "io server disconnect"
// and do not reconnect by themselves.
handoff.on('drain', () => io.close());
