'use strict';
// handoff-worker: run a Node server as a handoff worker.
//
// The supervisor owns the listening ports. It accepts each connection and passes the
// connected socket to one worker over Node's own child_process IPC channel (fd 3, `json`
// serialization), as {"cmd":"NODE_HANDLE","type":"net.Socket","msg":{"handoff":"conn",...}}.
// Node turns that into process.on('message', (msg, socket) => ...). This module feeds such
// sockets into your http.Server / net.Server, speaks the small hello/welcome/ready
// handshake (protocols/ipc_messages.h), sends `stats` heartbeats, and drains (finishes
// what is in flight, then exits) on the master's `drain`, on SIGTERM, or when the
// supervisor goes away.
// The master's `welcome` also carries the app's `http:` settings (keep-alive, header and
// request timeouts, limits), which the SDK sets on the server: the operator's config wins.
// Started any other way, serve() just calls server.listen(), so the same app runs alone.
//
// Per-request affinity: a keep-alive connection may carry requests for other slots (or,
// on a port shared by URL prefix, for other apps). With the app's rule from `welcome`
// (route-key.js decides as the master does), each request after a connection's first is
// checked before the app sees it; one that belongs elsewhere goes back to the master with
// its socket (`handback`, see handBack() below), and the master routes it again.

const EventEmitter = require('node:events');
const http = require('node:http');
const net = require('node:net');
const { belongsHere } = require('./route-key');
const { toServer } = require('./frameworks');
const { DrainMachine, rulesFromWelcome } = require('./drain');
const { HTTP_SETTINGS } = require('./http-settings');
const { metricsSource, answerMetrics } = require('./metrics');
const { cacheOffer, watchResponse, passUnanswered } = require('./cache');
// What http.Server uses to detach a parser from its socket, and what Node's child_process
// calls when it sends a socket (an internal module, but the one Node itself relies on).
const { freeParser } = require('_http_common');

const PROTOCOL_VERSION = 1;
const DEFAULT_GRACE_MS = 5000;
// Draining, how often the SDK asks http.Server which connections are inside a request
// (it tells no event when a next request's first bytes arrive). When an idle one is
// handed back or closed, and when the drain ends, is drain.js's decision.
const SWEEP_MS = 25;
const TIMEOUT_MAX = 2 ** 31 - 1; // longer timers fire at once in Node
const kHandback = Symbol('handoff.handback'); // on a request that goes back: its `conn`
const kConn = Symbol('handoff.conn'); // on a handed-over socket: its `conn` message
const kDrainId = Symbol('handoff.drainId'); // on a socket: its id in the drain machine
const kFill = Symbol('handoff.fill'); // on a handed-over socket: its first request is a cache fill, not yet seen

const now = () => performance.now();

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
    this.draining = false; // true from the 'drain' event on
  }

  get info() {
    return worker;
  }

  get supervised() {
    return worker.supervised;
  }
}

// serve(app, options) -> Handoff (an EventEmitter: 'welcome' (info), 'drain'
// ({reason, timeoutMs}), 'drained' ({reason}), 'disconnect').
// `app` is an http.Server, https.Server or net.Server, a request listener such as an
// Express app (wrapped in http.createServer), a Koa app or a Fastify instance
// (frameworks.js says how each is served, and refuses anything else).
// Options: port, host (standalone only); graceMs: how long a drain the master did not
// time (the master gone, SIGTERM, a `drain` without timeout_ms) may run before the
// process exits (Infinity: never force an exit); sigterm: false leaves SIGTERM alone;
// metrics: a prom-client Registry the master's /metrics shows too (metrics.js), with
// metricsSum: true added up across slots.
function serve(app, options = {}) {
  const target = toServer(app);
  metricsSource(options); // a wrong `metrics` fails here, standalone too
  if (served) throw new Error('serve() may be called once per process');
  const handoff = (served = new Handoff(target.server));

  if (!worker.supervised) {
    crashOnRejection(target.listen(options.port ?? process.env.PORT ?? 8080, options.host ?? process.env.HOST));
    return handoff;
  }
  attach(handoff, target.server, options);
  // The master sends connections once the worker says `ready`, so an app that boots
  // asynchronously (Fastify's plugins) says it only when it can serve them; its
  // start-up counts against the app's start_timeout. A drain that came first (the
  // master retired the worker meanwhile) leaves nothing to be ready for.
  const sayReady = () => {
    if (!handoff.draining) send({ handoff: 'ready', v: PROTOCOL_VERSION });
  };
  if (target.ready) crashOnRejection(Promise.resolve(target.ready()).then(sayReady));
  else sayReady();
  return handoff;
}

// An app that cannot boot (a Fastify plugin that throws) or listen must not linger as a
// worker that never becomes ready: its error becomes an uncaught exception, which the
// app's own 'uncaughtException' handler sees, or which ends the process.
function crashOnRejection(result) {
  if (result && typeof result.then === 'function') {
    result.then(undefined, (error) =>
      process.nextTick(() => {
        throw error;
      }),
    );
  }
}

function attach(handoff, server, options) {
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const metrics = metricsSource(options); // null: this worker offers no metrics
  const sockets = new Set(); // the handed-over sockets still open
  // HTTP-level state per socket that has had a request (the socket a request sees: the
  // handed-over one, or the TLSSocket over it): responses not finished yet, the time of
  // its last activity, and whether it left HTTP (upgrade, CONNECT).
  const conns = new Map();
  let requests = 0; // responses completed since start
  let bytesOfGoneSockets = 0; // bytes written to sockets closed or given back
  let closing = false;
  let heartbeat = null;
  // How the worker stops is the machine's to decide (drain.js); this function feeds it
  // (the master's drain, SIGTERM, the channel's loss, connections' activity) and carries
  // out its effects (drainEffects).
  const machine = new DrainMachine(graceMs);
  const bySocketId = new Map(); // drain machine id -> socket (a handed-over one, or a TLS socket over it)
  let lastSocketId = 0;
  // Once draining: { reason, timeoutMs, sweep, wake, finished }
  let drain = null;
  let nextDrain = null; // what the event being fed would start: { reason, timeoutMs }
  let kernelServer = null; // the slot's listening socket under kernel dispatch, while accepting

  const connectionsList = startHttpConnectionTracking(server);
  let maxBodySize = Infinity; // the config's max_body_size, from the welcome
  let route = null; // welcome.route, then `route`: how to check each next request on a keep-alive socket
  let cache = null; // welcome.cache: { maxEntry }, the app's output cache (cache.js); null: none, nothing watched
  let httpApplied = false;

  // The server never listens here, so net.Server would emit 'close' each time the count
  // drops to 0; we emit it only once close() was called. close(cb) also gets no
  // ERR_SERVER_NOT_RUNNING: to the app this server is running. While draining, close()
  // waits for the drain to finish: http.Server's own close() would cut idle keep-alive
  // connections at once (racing their clients' next requests) and stop headersTimeout.
  const close = server.close;
  const closeNow = () => {
    closing = true;
    close.call(server);
  };
  server.close = function closeWhenDrained(cb) {
    closing = true;
    if (typeof cb === 'function') this.once('close', () => cb());
    if (machine.draining) return this; // finishDrainIfDone() closes it
    return close.call(this);
  };

  // Sees every request before any listener does (one prepended now could be preceded by
  // one a framework prepends later), whichever event carries it.
  const emit = server.emit;
  server.emit = function emitTracked(event, a, b, c) {
    if (event === 'upgrade' && a && a[kHandback]) {
      releaseUpgrade();
      handBack(a, b, c);
      return true; // not the app's: it belongs to another slot
    }
    // Our own short-lived 'upgrade' listener (holdUpgrade) is nothing the app should see.
    if ((event === 'newListener' || event === 'removeListener') && b === handBackListener) return false;
    if (event === 'request' || event === 'checkContinue' || event === 'checkExpectation') {
      trackRequest(a, b);
      // Before the 413 below and before the app's listeners: its write() and end() must
      // be wrapped under anything the app wraps them with.
      if (cache) watchForCache(a, b);
      if (!withinBodyLimit(a, b)) return true; // answered 413: the app never sees it
    } else if (event === 'upgrade' || event === 'connect') {
      if (cache && takeFill(a)) passUnanswered(a, send); // no response to keep
      const state = connState(b);
      if (state) detach(state); // no longer HTTP: never closed as idle
    }
    return emit.apply(this, arguments);
  };

  function connState(socket) {
    if (!socket || socket.destroyed) return null;
    let state = conns.get(socket);
    if (!state) {
      state = { id: socket[kDrainId], responses: new Set(), last: now(), upgraded: false, closing: false, whenIdle: null };
      conns.set(socket, state);
      socket.once('close', () => conns.delete(socket));
      // A TLS socket over a handed-over one: a connection of its own to the drain, which
      // cannot travel (its session stays here); the socket under it waits for it.
      if (state.id === undefined) state.id = register(socket, false);
    }
    return state;
  }

  function trackRequest(req, res) {
    if (!res || typeof res.once !== 'function') return;
    // Draining: this response says `Connection: close`, and Node closes the connection
    // once it has gone out.
    if (machine.phase !== 'serving') res.shouldKeepAlive = false;
    const state = connState(req && req.socket);
    if (state) {
      state.responses.add(res);
      state.last = now();
      if (machine.draining) drainEffects(machine.busy(state.last, state.id));
    }
    let done = false;
    const end = () => {
      if (done) return;
      done = true;
      if (state) {
        state.responses.delete(res);
        state.last = now();
        if (state.responses.size === 0 && state.whenIdle) state.whenIdle();
      }
    };
    res.once('finish', () => {
      requests++;
      end();
    });
    res.once('close', end);
  }

  // ---- the output cache ----

  // Responses on the sockets the master handed over are judged for its cache (cache.js).
  // A TLS socket over one is not: the master cannot read or serve what goes through it.
  function watchForCache(req, res) {
    if (!req || !res || typeof res.once !== 'function' || !sockets.has(req.socket)) return;
    watchResponse(req, res, cache, takeFill(req), send);
  }

  // Whether this request is the first of a `fill` connection (the master holds the other
  // requests for its key until it hears about this one's response); true once only.
  function takeFill(req) {
    const socket = req && req.socket;
    if (!socket || socket[kFill] !== true) return false;
    socket[kFill] = false;
    return true;
  }

  // ---- http settings from the master ----

  // The app's `http:` section of cluster.yaml. The config wins over the program's own
  // values (the operator sets it), but not silently: a value the program had changed from
  // Node's default is named on stderr, once. Timeouts apply at once, maxHeaderSize to
  // connections that arrive afterwards.
  function applyHttp(settings) {
    if (settings === null || typeof settings !== 'object') return;
    // Milliseconds and counts alike: Node's timers and parser take at most 2^31 - 1.
    const int = (v) => (Number.isInteger(v) && v >= 0 ? Math.min(v, TIMEOUT_MAX) : undefined);
    const body = HTTP_SETTINGS.find((s) => s.sdk);
    if (Number.isInteger(settings[body.wire]) && settings[body.wire] > 0) maxBodySize = settings[body.wire];
    if (typeof server.headersTimeout !== 'number') return; // a net.Server: no HTTP to set
    const defaults = new http.Server();
    for (const { property, config: key, wire, sdk } of HTTP_SETTINGS) {
      const value = int(settings[wire]);
      if (sdk || value === undefined) continue;
      const own = server[property];
      if (!httpApplied && own !== defaults[property] && own !== value) {
        console.error(
          `handoff-worker: server.${property} ${own} set by the program is replaced by the supervisor's http.${key} (${value})`,
        );
      }
      server[property] = value;
    }
    httpApplied = true;
    // http.Server checks headersTimeout and requestTimeout on a timer (every 30 s by
    // default), so a 408 could come up to 30 s late; check at a tenth of the shorter one.
    const timeouts = [server.headersTimeout, server.requestTimeout].filter((t) => t > 0);
    if (connectionsList && timeouts.length > 0) {
      const every = Math.max(100, Math.min(30000, Math.floor(Math.min(...timeouts) / 10)));
      if (every < server.connectionsCheckingInterval) {
        server.connectionsCheckingInterval = every;
        startHttpConnectionTracking(server); // restarts the check with the new period
      }
    }
  }

  // max_body_size: a declared Content-Length above it gets 413 before the app sees the
  // request (false: the event is not emitted). A chunked body is counted as it arrives;
  // past the limit its connection is cut, which the app sees as a client that went away
  // (the response is the app's, so no 413 can be written then).
  function withinBodyLimit(req, res) {
    if (maxBodySize === Infinity || !req || !res || typeof res.writeHead !== 'function') return true;
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > maxBodySize) {
      res.shouldKeepAlive = false;
      res.writeHead(413, { 'Content-Type': 'text/plain', Connection: 'close' });
      res.end('Content Too Large\n');
      return false;
    }
    if (req.headers['transfer-encoding'] !== undefined && typeof req.push === 'function') {
      let received = 0;
      const push = req.push;
      req.push = function pushCounted(chunk, encoding) {
        if (chunk) received += chunk.length;
        if (received <= maxBodySize) return push.call(this, chunk, encoding);
        req.push = () => false;
        if (req.socket) req.socket.destroy();
        return false;
      };
    }
    return true;
  }

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
    showClient(socket, message);
    // Count it, so getConnections() and close()'s 'close' event see it.
    server._connections++;
    sockets.add(socket);
    socket[kConn] = message; // what a drain's handback tells the master
    if (cache && message.fill === true) socket[kFill] = true;
    socket.once('close', () => forget(socket));
    // Handed over while draining (it was in flight): served all the same, and its
    // responses say `Connection: close` (trackRequest). Not closed before its first
    // request: only headersTimeout does that.
    // It can go back when http.Server tells which connections are inside a request.
    register(socket, connectionsList !== null);
    server.emit('connection', socket);
    checkRequests(socket, message);
  }

  // A socket the drain machine counts until it closes (or goes back: forget()).
  function register(socket, movable) {
    const id = ++lastSocketId;
    socket[kDrainId] = id;
    bySocketId.set(id, socket);
    if (!movable) socket.once('close', () => unregister(socket));
    drainEffects(machine.opened(now(), id, movable));
    return id;
  }

  function unregister(socket) {
    const id = socket[kDrainId];
    if (id === undefined || !bySocketId.delete(id)) return;
    drainEffects(machine.closed(now(), id));
  }

  // The socket is no longer ours: closed, or given back to the master.
  function forget(socket) {
    if (!sockets.delete(socket)) return;
    bytesOfGoneSockets += socket.bytesWritten ?? 0;
    conns.delete(socket);
    server._connections--;
    if (closing) server._emitCloseIfDrained();
    unregister(socket);
  }

  // ---- per-request affinity (handback) ----

  // How a request that belongs elsewhere is taken away from http.Server, with every byte
  // it has not served. Node's parser reads the socket natively (parser.consume), so the
  // SDK never sees the raw bytes; but http.Server has one way to give a socket up in the
  // middle of a stream with the exact bytes after a request head: an upgrade. The
  // parser's onIncoming hook (called at each request's headers-complete, before the
  // 'request' event) returns 2 for such a request, which tells llhttp to stop right after
  // its head (no body parsed, nothing after it parsed); http.Server then detaches the
  // socket (its listeners removed, the parser freed, reading back in JS) and emits
  // 'upgrade' with the bytes of that read after the head (holdUpgrade makes sure it does,
  // with or without the app's own 'upgrade' listeners), which our emit wrapper takes
  // instead of the app. Those bytes, after a re-serialized head (method, target, version,
  // raw headers: an equivalent head, not the exact bytes), are what the master gets; a
  // body and pipelined requests beyond that read are still in the kernel.
  // A request before it on the socket is served as usual, and handed back only once all
  // earlier responses are written. TLS sockets (https.Server) and net.Server sockets have
  // no such parser: they keep their connection, like a worker without the SDK.
  function checkRequests(socket, conn) {
    const parser = socket.parser;
    if (!parser || typeof parser.onIncoming !== 'function') return;
    const onIncoming = parser.onIncoming;
    let seen = 0;
    parser.onIncoming = function onIncomingChecked(req, keepAlive) {
      // The first request is the one the master routed here: never sent back (a slot that
      // is down could otherwise bounce it between the master and this worker).
      seen++;
      if (seen > 1 && route && req.method !== 'CONNECT' && !belongsHere(route, worker.slot, worker.workers, req.url, req.rawHeaders)) {
        req[kHandback] = conn;
        req.upgrade = true; // http.Server's test after the parse: detach the socket
        holdUpgrade();
        return 2; // llhttp: no body, stop here (HPE_PAUSED_UPGRADE)
      }
      return onIncoming.call(this, req, keepAlive);
    };
  }

  // http.Server emits 'upgrade' for a detached request only if the server has an
  // 'upgrade' listener (Node 22 and 24 check `listenerCount('upgrade') > 0` after the
  // parse and destroy the socket otherwise; Node 20 emits it regardless). An app without
  // one (Express, Fastify, plain http) must not get one for good: Node (20 to 24) would
  // then take a real `Upgrade:` request for an upgrade instead of a normal request, which
  // is what it gives an app without listeners. So a listener is
  // added only from the moment a request is marked for hand-back (onIncoming, inside the
  // parse) to the 'upgrade' that follows in the same synchronous call, which removes it;
  // no other request is parsed in between, so none sees it. The emit wrapper hides its
  // newListener/removeListener events and takes the 'upgrade' before any listener runs,
  // so the listener itself is never called. Should the 'upgrade' not come (the parse
  // failed after the head), the next tick removes it all the same.
  let upgradeHeld = false;
  function holdUpgrade() {
    if (upgradeHeld) return;
    upgradeHeld = true;
    server.on('upgrade', handBackListener);
    process.nextTick(releaseUpgrade);
  }

  function releaseUpgrade() {
    if (!upgradeHeld) return;
    upgradeHeld = false;
    server.removeListener('upgrade', handBackListener);
  }

  // 'upgrade' for a request that goes back: `rest` is what the read that completed its
  // head held after it.
  function handBack(req, socket, rest) {
    const conn = req[kHandback];
    stopReading(socket);
    const parts = [requestHead(req), rest];
    takeBuffered(socket, parts);
    const bytes = Buffer.concat(parts);
    const state = connState(socket);
    if (!state) return;
    // Earlier (pipelined) responses go out first; the next one is the other slot's.
    const whenIdle = () => {
      if (state.responses.size > 0) return;
      if (socket.writableLength > 0) {
        socket.once('drain', whenIdle);
        return;
      }
      state.whenIdle = null;
      sendBack(socket, conn, bytes);
    };
    state.whenIdle = whenIdle;
    detach(state); // a drain leaves it alone: it is about to go
    whenIdle();
  }

  function sendBack(socket, conn, bytes) {
    // An earlier response closed the connection (`Connection: close`, a drain) or the
    // client went: there is nothing to hand back.
    if (socket.destroyed || socket.writableEnded || !socket._handle || !process.connected) {
      socket.destroy();
      return;
    }
    // child_process treats a socket with a .server as one of a cluster's shared servers:
    // it would turn the server into a "worker" list whose close() waits for an answer
    // from the parent that our master never sends.
    socket.server = null;
    socket.setTimeout(0);
    // Node's child_process waits for the master's ACK, resends on NACK (3 times), and
    // closes its copy of the descriptor after the ACK. A socket sent while an earlier one
    // awaits its ACK waits in child_process's queue, its reading stopped: nothing is read.
    process.send(
      {
        handoff: 'handback',
        v: PROTOCOL_VERSION,
        id: conn.id,
        remote: conn.remote,
        port: conn.port,
        listener: conn.listener,
        head: bytes.toString('base64'),
      },
      socket,
      {},
      () => {},
    );
    // Only now: forgetting the last socket of a drain disconnects the channel, which must
    // still take this message (a disconnect waits for the handles queued before it).
    forget(socket); // child_process detaches the handle: 'close' never comes
  }


  // ---- heartbeat ----

  // Response bytes written since start, headers included (as the C++ SDK counts them).
  function bytesWritten() {
    let total = bytesOfGoneSockets;
    for (const socket of sockets) total += socket.bytesWritten ?? 0;
    return total;
  }

  function sendStats() {
    send({
      handoff: 'stats',
      v: PROTOCOL_VERSION,
      requests,
      connections: sockets.size,
      bytes: bytesWritten(),
      rss: process.memoryUsage.rss(),
    });
  }

  function startHeartbeat(ms) {
    stopHeartbeat();
    if (!Number.isInteger(ms) || ms <= 0 || (drain && drain.finished)) return;
    sendStats();
    // Unref'd: it must never keep the process alive. It runs on the main event loop, so a
    // loop that hangs stops the heartbeat, and the master replaces this worker.
    heartbeat = setInterval(sendStats, Math.min(ms, TIMEOUT_MAX)).unref();
  }

  function stopHeartbeat() {
    if (heartbeat) clearInterval(heartbeat);
    heartbeat = null;
  }

  // ---- drain ----

  // Stops taking work without failing a client: requests in progress finish and their
  // connections close after the response; connections that have not sent a request yet
  // are served (with close) when it comes; keep-alive connections are closed once idle
  // for the machine's grace, or, when the master's drain says `handback` (a successor
  // serves this slot), handed back to the master as soon as they are idle (handBackIdle).
  // When the last connection has gone, the server is closed and the channel
  // disconnected, and the process exits by itself. The machine's deadline bounds it all.
  // `reason` and `timeoutMs` are what the 'drain' event tells the app, should this start one.
  function feedDrain(reason, timeoutMs, event) {
    nextDrain = { reason, timeoutMs };
    reportActivity();
    drainEffects(event());
    nextDrain = null;
  }

  // Effects come from events that effects themselves cause (a socket handed back is
  // forgotten, which may end the drain): they queue, and the outermost call carries them out.
  const pendingEffects = [];
  let carryingOut = false;
  function drainEffects(effects) {
    pendingEffects.push(...effects);
    if (carryingOut) return;
    carryingOut = true;
    try {
      while (pendingEffects.length > 0) carryOut(pendingEffects.shift());
    } finally {
      carryingOut = false;
    }
  }

  function carryOut(effect) {
    const socket = effect.id === undefined ? undefined : bySocketId.get(effect.id);
    const state = socket && conns.get(socket);
    switch (effect.kind) {
      case 'stop_accepting':
        drainStarted();
        break;
      case 'finish':
        if (state) for (const res of state.responses) if (!res.headersSent) res.shouldKeepAlive = false;
        break;
      case 'hand_back':
        if (!socket || !state) break;
        // It was idle and movable at the last look; should it no longer travel (the
        // channel went in between), it closes as an idle one would.
        if (canHandBack(socket)) handBackIdle(socket, state);
        else closeIdle(socket, state);
        break;
      case 'close':
        if (socket && state) closeIdle(socket, state);
        break;
      case 'arm_timer':
        if (drain) armWake(effect.at);
        break;
      case 'exit':
        exitNow();
        break;
      case 'stopped':
        finishDrainIfDone();
        break;
    }
  }

  // Kernel dispatch: the slot's listening socket, which Node's child_process turned into a
  // listening net.Server. Its connections go the way the master's do (accept()), so the
  // drain and hand-backs count them; the drain closes it first (stop accepting): the
  // master keeps its own copy, and what waits goes to the slot's next worker.
  function acceptFrom(message, listening) {
    if (machine.phase !== 'serving') {
      listening.close();
      return;
    }
    // child_process listened again with Node's default backlog; the listener's own wins.
    if (Number.isInteger(message.backlog) && message.backlog > 0 && listening._handle) listening._handle.listen(message.backlog);
    const conn = { listener: message.listener };
    listening.on('connection', (socket) => accept(conn, socket));
    kernelServer = listening;
  }

  function drainStarted() {
    if (kernelServer) {
      kernelServer.close();
      kernelServer = null;
    }
    const { reason, timeoutMs } = nextDrain ?? { reason: 'drain', timeoutMs: undefined };
    drain = { reason, timeoutMs, sweep: null, wake: null, look: null, finished: false };
    handoff.draining = true;
    // Unref'd, as the wake-up: they only act if something keeps the process alive.
    drain.sweep = setInterval(sweepAfterIo, SWEEP_MS).unref();
    handoff.emit('drain', { reason, timeoutMs });
  }

  function armWake(at) {
    clearTimeout(drain.wake);
    drain.wake = setTimeout(wake, Math.min(Math.max(0, at - now()), TIMEOUT_MAX)).unref();
  }

  function wake() {
    drain.wake = null;
    sweepAfterIo();
  }

  // Timers run before the event loop reads what arrived meanwhile. After a stall (a busy
  // machine did not run this process for longer than the idle grace), a connection whose
  // next request already waits in the kernel would look idle, and closing it would reset
  // that request (the client: ECONNRESET on a reused socket). So a timer only asks for a
  // look, and the look comes after the loop's I/O phase (setImmediate), on fresh facts.
  function sweepAfterIo() {
    if (drain.look) return;
    drain.look = setImmediate(() => {
      drain.look = null;
      if (drain.finished) return;
      sweep(); // a connection whose next request has begun since the last look is not idle
      // The machine asks again only when its next time moves; never leave it unwoken.
      const next = machine.nextWakeup();
      if (next !== null && drain && drain.wake === null && !drain.finished) armWake(next);
    }).unref();
  }

  // Tells the machine what each connection is doing: http.Server tells no event when a
  // next request begins, so its list of connections inside a request is asked.
  function reportActivity() {
    // Sockets whose parser is inside a request (a head or a body partly received) or that
    // have not completed a first one (http.Server's list, which drives headersTimeout).
    const busy = new Set();
    if (connectionsList) for (const parser of connectionsList.active()) busy.add(parser.socket);
    const t = now();
    for (const [socket, state] of conns) {
      if (state.upgraded || state.closing) continue;
      if (busy.has(socket)) {
        state.last = t;
        drainEffects(machine.busy(t, state.id));
      } else if (state.responses.size === 0 && quiet(socket)) {
        drainEffects(machine.idle(state.last, state.id)); // idle since its last activity
      }
    }
  }

  // The machine decides on fresh facts only: every tick follows a look at the connections.
  function sweep() {
    reportActivity();
    drainEffects(machine.tick(now()));
  }

  // No byte waits to be written or read: between requests.
  function quiet(socket) {
    return !socket.destroyed && !socket.writableEnded && socket.writableLength === 0 && socket.readableLength === 0;
  }

  function detach(state) {
    state.upgraded = true;
    if (machine.draining) drainEffects(machine.detached(now(), state.id));
  }

  function closeIdle(socket, state) {
    state.closing = true;
    if (typeof socket.destroySoon === 'function') socket.destroySoon();
    else socket.end();
  }

  // An idle keep-alive socket of ours that can travel: the handed-over socket itself (not
  // a TLS socket over it: its session cannot move), parsed by http.Server, with nothing
  // written and not yet sent, nothing unread in its stream buffer.
  function canHandBack(socket) {
    return (
      sockets.has(socket) &&
      socket[kConn] !== undefined &&
      socket.parser &&
      socket._handle &&
      !socket.destroyed &&
      !socket.writableEnded &&
      socket.writableLength === 0 &&
      socket.readableLength === 0 &&
      process.connected
    );
  }

  // Race-free because JavaScript runs between reads: http.Server's parser consumes the
  // socket natively, but only inside a read callback, never while this runs. The parser
  // is not inside a request (reportActivity asked http.Server's list), so not a
  // byte of a next request has been read; reading stops now, and whatever the client
  // sends from here on stays in the kernel for the master and the next worker. The head
  // is empty. The parser is freed here, as child_process would when it takes the handle:
  // a socket waiting in child_process's queue (an earlier one awaits its ACK) must leave
  // http.Server's list of connections now, or server.close() at the end of the drain
  // would destroy it as idle before it is sent.
  function handBackIdle(socket, state) {
    state.closing = true; // never swept again
    stopReading(socket);
    freeParser(socket.parser, null, socket);
    sendBack(socket, socket[kConn], Buffer.alloc(0));
  }

  function finishDrainIfDone() {
    if (!drain || drain.finished || machine.phase !== 'stopped') return;
    drain.finished = true;
    clearInterval(drain.sweep);
    clearTimeout(drain.wake);
    clearImmediate(drain.look);
    // The process should now exit by itself; should something of the app's keep it alive
    // (a timer, a pool, a boot that never ends), the deadline still ends it, unref'd.
    if (machine.deadline !== null) drain.wake = setTimeout(exitNow, Math.min(Math.max(0, machine.deadline - now()), TIMEOUT_MAX)).unref();
    stopHeartbeat();
    process.off('message', onMessage);
    process.off('disconnect', onDisconnect);
    // Nothing is left to close: this only emits 'close' (and calls close() callbacks).
    closeNow();
    handoff.emit('drained', { reason: drain.reason });
    // Without a channel and with no connections, nothing of ours keeps the process alive.
    // Sockets handed back may still wait in child_process's queue (one handle in flight,
    // each sent after the previous ACK): the disconnect waits for them, and the channel,
    // unref'd once our 'message' listener is gone, is held until then, or the process
    // would exit with those sockets unsent (and their clients cut).
    if (process.connected) {
      if (process.channel && typeof process.channel.ref === 'function') process.channel.ref();
      process.disconnect();
    }
  }

  function exitNow() {
    for (const socket of sockets) socket.destroy();
    process.exit(0);
  }

  // ---- the channel and signals ----

  function onMessage(message, handle) {
    if (message === null || typeof message !== 'object') return; // not ours
    if (message.handoff === 'welcome') {
      if (typeof message.app === 'string') worker.app = message.app;
      for (const key of ['slot', 'workers', 'generation']) {
        if (Number.isInteger(message[key])) worker[key] = message[key];
      }
      if (message.http !== undefined) applyHttp(message.http);
      // The drain's numbers are the master's; drain.js's own serve only without them
      // (standalone, a signal before the welcome, an older master).
      const rules = rulesFromWelcome(message.drain);
      if (rules && machine.phase === 'serving') machine.rules = rules; // a drain under way keeps its own
      route = routeOf(message);
      cache = cacheOffer(message.cache);
      startHeartbeat(message.heartbeat_ms);
      handoff.emit('welcome', info());
    } else if (message.handoff === 'route') {
      // A reload changed the app's rule or its shared ports' prefixes, or a reload or a
      // scale its slot count: checkRequests() reads both at each request, so the next
      // request of every connection held now is checked against them.
      if (Number.isInteger(message.workers)) worker.workers = message.workers;
      route = routeOf(message);
    } else if (message.handoff === 'conn' && handle instanceof net.Socket) {
      accept(message, handle);
    } else if (message.handoff === 'listen' && handle instanceof net.Server) {
      acceptFrom(message, handle);
    } else if (message.handoff === 'metrics') {
      if (metrics) answerMetrics(metrics, message, send);
    } else if (message.handoff === 'drain') {
      const timeoutMs = Number.isInteger(message.timeout_ms) && message.timeout_ms > 0 ? message.timeout_ms : 0;
      feedDrain('drain', timeoutMs || graceMs, () =>
        machine.drain(now(), timeoutMs, message.handback === true && process.connected),
      );
    }
    // Anything else (later protocol versions, the app's own messages) is ignored.
  }

  // The master is gone: nobody hands us sockets any more, nor reads our stats. Drain.
  function onDisconnect() {
    stopHeartbeat();
    handoff.emit('disconnect');
    feedDrain('disconnect', graceMs, () => machine.channelLost(now()));
  }

  // The supervisor drains SDK workers with a `drain` message; SIGTERM comes from
  // elsewhere (kill, systemd stopping the whole group). The first one drains (or lets a
  // drain already under way go on); a second one means "now" (the machine counts them).
  function onSigterm() {
    feedDrain('SIGTERM', graceMs, () => machine.signal(now()));
  }

  // The 'message' listener also keeps the channel, and so the process, alive.
  process.on('message', onMessage);
  process.once('disconnect', onDisconnect);
  if (options.sigterm ?? true) process.on('SIGTERM', onSigterm);
  const hello = { handoff: 'hello', v: PROTOCOL_VERSION, sdk: 'node', pid: process.pid };
  if (metrics) hello.metrics = true;
  send(hello);
  // serve() says `ready` once the app can take connections.
}

// The client as the master saw it (`conn.remote`, `conn.port`: behind a load balancer that
// speaks the PROXY protocol, the client's address, not the balancer's) is what the socket
// says: socket.remoteAddress, remotePort and remoteFamily, so req.socket.remoteAddress and
// Express's req.ip, show it. net.Socket has them as getters on its prototype, which read
// the kernel's peer; an own property of this socket shadows them (a socket handed back
// and handed over again is a new socket, given the same address by the master). A TLS
// socket over it (https.Server) keeps asking the kernel.
function showClient(socket, message) {
  if (typeof message.remote !== 'string' || message.remote === '') return;
  const shown = {
    remoteAddress: message.remote,
    remotePort: Number.isInteger(message.port) ? message.port : undefined,
    remoteFamily: net.isIPv6(message.remote) ? 'IPv6' : net.isIPv4(message.remote) ? 'IPv4' : undefined,
  };
  for (const [name, value] of Object.entries(shown)) {
    // Feature check: a Node whose sockets hold these as fixed own properties keeps its own.
    const own = Object.getOwnPropertyDescriptor(socket, name);
    if (own && !own.configurable) continue;
    Object.defineProperty(socket, name, { value, configurable: true, enumerable: false, writable: false });
  }
}

// The rule in a `welcome` or `route` message; absent: nothing to check (round_robin...).
function routeOf(message) {
  return message.route !== null && typeof message.route === 'object' ? message.route : null;
}

// The 'upgrade' listener that holdUpgrade() adds for a moment; never called (the emit
// wrapper takes the event first), it only makes http.Server emit it.
function handBackListener() {}

// At once, in the 'upgrade' call: nothing more is read from the kernel, so whatever
// follows stays there for the master (bytes read and dropped would be lost: Node issue
// 8353, the bug of socket.io-sticky).
function stopReading(socket) {
  socket.pause();
  const handle = socket._handle;
  if (handle && handle.reading) {
    handle.reading = false;
    handle.readStop();
  }
}

// Bytes already read into the socket's stream buffer (none, usually: http.Server read
// them all), taken without letting read() start the handle reading again.
function takeBuffered(socket, parts) {
  if (socket.readableLength === 0) return;
  const read = socket._read;
  socket._read = () => {};
  for (let chunk; (chunk = socket.read()) !== null; ) parts.push(chunk);
  socket._read = read;
}

// An equivalent of the request's head, from what http.Server parsed: the master only
// routes on it, and the next worker parses it again.
function requestHead(req) {
  let head = `${req.method} ${req.url} HTTP/${req.httpVersion}\r\n`;
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return Buffer.from(`${head}\r\n`, 'latin1');
}

// http.Server keeps a list of its connections (which close() uses to close idle
// keep-alive sockets, which drives headersTimeout / requestTimeout, and which tells a
// drain which sockets are inside a request), but starts it on 'listening', which never
// fires for a server that is only fed sockets. Start it now, with the very listener
// http.Server registered for itself, and return the list. Called again, it restarts the
// timer that checks the timeouts (with the server's connectionsCheckingInterval). Absent (net.Server, another
// Node version): nothing to do; a drain then goes by the requests it saw.
function startHttpConnectionTracking(server) {
  const setup = server.listeners('listening').find((fn) => fn.name === 'setupConnectionsTracking');
  if (!setup) return null;
  const symbol = (name) => Object.getOwnPropertySymbols(server).find((s) => s.description === name);
  const checking = symbol('http.server.connectionsCheckingInterval');
  if (checking) clearInterval(server[checking]); // Node 20 does it too; older ones did not
  setup.call(server);
  const key = symbol('http.server.connections');
  const list = key ? server[key] : null;
  return list && typeof list.active === 'function' ? list : null;
}

module.exports = { serve, info, worker, PROTOCOL_VERSION, socketio: require('./socketio').socketio };
