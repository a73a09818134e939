'use strict';
// handoff-worker: run a Node server as a handoff worker.
//
// The supervisor owns the listening ports. It accepts each connection and passes the
// connected socket to one worker over Node's own child_process IPC channel (fd 3, `json`
// serialization), as {"cmd":"NODE_HANDLE","type":"net.Socket","msg":{"handoff":"conn",...}}.
// Node turns that into process.on('message', (msg, socket) => ...). This module feeds such
// sockets into your http.Server / net.Server, speaks the small hello/welcome/ready
// handshake (protocols/ipc_messages.h), and closes down when the supervisor goes away.
// Started any other way, serve() just calls server.listen(), so the same app runs alone.

const EventEmitter = require('node:events');
const http = require('node:http');
const net = require('node:net');

const PROTOCOL_VERSION = 1;
const DEFAULT_GRACE_MS = 5000;
const IDLE_SWEEP_MS = 250;

function envInt(name, fallback) {
  const n = Number.parseInt(process.env[name] ?? '', 10);
  return Number.isInteger(n) ? n : fallback;
}

// Both are needed: an IPC channel alone may come from any parent (a test runner, a
// process manager), and the env alone may be inherited by a child the app starts.
const supervised = typeof process.send === 'function' && Boolean(process.env.HANDOFF_APP);

// Live worker info: the environment gives a first picture, the master's `welcome`
// message the authoritative one. Read it at request time, not once at start-up.
const worker = {
  supervised,
  app: supervised ? process.env.HANDOFF_APP : null,
  slot: supervised ? envInt('HANDOFF_SLOT', 0) : 0,
  workers: supervised ? envInt('HANDOFF_WORKERS', 0) : 1,
  generation: supervised ? envInt('HANDOFF_GENERATION', 0) : 0,
  pid: process.pid,
};

function info() {
  return { ...worker };
}

// Sends one message to the master. The callback form keeps a closed channel from
// becoming an 'error' event (an uncaught exception); 'disconnect' deals with that case.
function send(message) {
  if (process.connected) process.send(message, undefined, {}, () => {});
}

let served = null;

class Handoff extends EventEmitter {
  constructor(server) {
    super();
    this.server = server;
  }

  get info() {
    return worker;
  }

  get supervised() {
    return worker.supervised;
  }
}

// serve(server, options) -> Handoff (an EventEmitter: 'welcome' (info), 'disconnect').
// `server` is an http.Server, https.Server or net.Server, or a request listener such as
// an Express app (wrapped in http.createServer).
// Options: port, host (standalone only); graceMs: how long in-flight connections may run
// after the master has gone before the process exits (Infinity: never force an exit).
function serve(server, options = {}) {
  if (typeof server === 'function') server = http.createServer(server);
  if (!(server instanceof net.Server)) {
    throw new TypeError('serve(server): expected an http.Server, a net.Server or a request listener');
  }
  if (served) throw new Error('serve() may be called once per process');
  served = new Handoff(server);

  if (!worker.supervised) {
    server.listen(options.port ?? process.env.PORT ?? 8080, options.host ?? process.env.HOST);
    return served;
  }
  attach(served, server, options);
  return served;
}

function attach(handoff, server, options) {
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const sockets = new Set();
  let closing = false;

  startHttpConnectionTracking(server);

  // The server never listens here, so net.Server would emit 'close' each time the count
  // drops to 0; we emit it only once close() was called. close(cb) also gets no
  // ERR_SERVER_NOT_RUNNING: to the app this server is running.
  const close = server.close;
  server.close = function closeWhenDrained(cb) {
    closing = true;
    if (typeof cb === 'function') this.once('close', () => cb());
    return close.call(this);
  };

  function accept(message, socket) {
    if (server.maxConnections && server._connections >= server.maxConnections) {
      socket.destroy();
      server.emit('drop');
      return;
    }
    // Bytes the master already read (base64) go back in front of whatever is still in the
    // kernel. Nothing has read from the socket yet: Node starts reading it in I/O, after
    // this handler, so no data is lost or reordered.
    if (typeof message.head === 'string' && message.head.length > 0) {
      socket.unshift(Buffer.from(message.head, 'base64'));
    }
    // What net.Server does on its own accepts, which a manual emit skips.
    if (server.noDelay) socket.setNoDelay(true);
    if (server.keepAlive) socket.setKeepAlive(true, server.keepAliveInitialDelay * 1000);
    socket.allowHalfOpen = server.allowHalfOpen;
    // Count it, so getConnections() and close()'s 'close' event see it.
    server._connections++;
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      server._connections--;
      if (closing) server._emitCloseIfDrained();
    });
    server.emit('connection', socket);
  }

  function onMessage(message, handle) {
    if (message === null || typeof message !== 'object') return; // not ours
    if (message.handoff === 'welcome') {
      if (typeof message.app === 'string') worker.app = message.app;
      for (const key of ['slot', 'workers', 'generation']) {
        if (Number.isInteger(message[key])) worker[key] = message[key];
      }
      handoff.emit('welcome', info());
    } else if (message.handoff === 'conn' && handle instanceof net.Socket) {
      accept(message, handle);
    }
    // Anything else (later protocol versions, the app's own messages) is ignored.
  }

  // The master is gone: stop, let in-flight requests finish, and exit.
  function onDisconnect() {
    handoff.emit('disconnect');
    server.close();
    // close() closed the idle keep-alive sockets; those busy now become idle later.
    if (typeof server.closeIdleConnections === 'function') {
      setInterval(() => server.closeIdleConnections(), IDLE_SWEEP_MS).unref();
    }
    // Unref'd: the process exits by itself as soon as nothing else keeps it alive; the
    // timer only forces the exit if something does (a stuck request, an app timer).
    if (Number.isFinite(graceMs)) {
      setTimeout(() => {
        for (const socket of sockets) socket.destroy();
        process.exit(0);
      }, graceMs).unref();
    }
  }

  // The 'message' listener also keeps the channel, and so the process, alive.
  process.on('message', onMessage);
  process.once('disconnect', onDisconnect);
  send({ handoff: 'hello', v: PROTOCOL_VERSION, sdk: 'node', pid: process.pid });
  send({ handoff: 'ready', v: PROTOCOL_VERSION });
}

// http.Server keeps a list of its connections (which close() uses to close idle
// keep-alive sockets, and which drives headersTimeout / requestTimeout), but starts it on
// 'listening', which never fires for a server that is only fed sockets. Start it now,
// with the very listener http.Server registered for itself. Absent (net.Server, another
// Node version): nothing to do.
function startHttpConnectionTracking(server) {
  const setup = server.listeners('listening').find((fn) => fn.name === 'setupConnectionsTracking');
  if (setup) setup.call(server);
}

module.exports = { serve, info, worker, PROTOCOL_VERSION };
