'use strict';
// socketio(io): socket.io (engine.io) sessions that find their way back to the worker that
// holds them, from any number of clients behind one address.
//
// engine.io keeps a session in the memory of the process that answered its handshake, and
// every later request of the session (long-polling GETs and POSTs, the WebSocket upgrade)
// carries its id: `?sid=ID`, and the `io` cookie with socket.io's `cookie` option. Under
// `policy: {query: sid}` (or `{cookie: io}`) with `missing_key: round_robin`, the master
// sends the handshake (no id yet) to any worker and each later request to the slot its id
// hashes to. So the worker that answers a handshake issues only an id that hashes to its
// own slot: it draws ids from engine.io's own generator (or the app's) until one does
// (route-key.js computes the master's decision in JS).
//
// Scaling: jump consistent hash moves a key only to a slot being added, so a key that maps
// to slot k among M slots maps to k among every count from k to M. Ids are drawn against
// `maxWorkers` (M, by default twice the worker count and at least 16) rather than the
// count itself: a session then keeps reaching its worker when the app grows or shrinks
// to any count up to M, and a worker that has not heard of a new count (the master tells
// a worker its count in `welcome`, when it starts) still issues ids that are right after
// it. The price is about M draws per handshake instead of the count (5 µs each).
//
// The key the master hashes is the id as the client sends it back: engine.io-client puts it
// in the query with encodeURIComponent, and engine.io's cookie is serialized with it too;
// engine.io's default ids are base64url, which it leaves unchanged.

const { slotForKey } = require('./route-key');

const kPatched = Symbol('handoff.socketio');
const MIN_MAX_WORKERS = 16;
// Draws before giving up: among M slots a draw lands on this one with probability 1/M,
// so 32·M + 32 draws all miss with probability about e^-32. Only a generator that keeps
// returning the same id gets there.
const drawsFor = (/** @type {number} */ slots) => 32 * slots + 32;

/**
 * The slot count ids are drawn against: the app's `maxWorkers`, or twice the count (at
 * least 16); never fewer than the count itself.
 * @param {number} workers
 * @param {number | undefined} maxWorkers
 */
function headroom(workers, maxWorkers) {
  return Math.max(workers, maxWorkers ?? Math.max(MIN_MAX_WORKERS, 2 * workers));
}

// The SDK's live worker info (slot and worker count from the master's `welcome`). Required
// when first needed: index.js exports this module, so it is still loading when this one is.
const workerInfo = () => require('./index').worker;

/**
 * Whether the master sends `id`, as the client will send it back, to `slot` (1-based)
 * among `slots`, and so among any count from `slot` to `slots`.
 * @param {string} id
 * @param {number} slot
 * @param {number} slots
 */
function issuedHere(id, slot, slots) {
  return slotForKey(encodeURIComponent(id), slots) === slot - 1;
}

/**
 * Makes an engine.io server issue session ids that the app's routing rule
 * (`policy: {query: sid}` or `{cookie: io}`, with `missing_key: round_robin`) sends back to
 * the worker that issued them. Standalone, ids are left as they are.
 * The slot and the worker count are read at each handshake, from the SDK's `worker`.
 *
 * @template {{ generateId: Function }} E
 * @param {E} engine an engine.io Server
 * @param {number | undefined} maxWorkers
 * @returns {E}
 */
function patchEngine(engine, maxWorkers) {
  const target = /** @type {any} */ (engine);
  if (target[kPatched]) return engine;
  if (typeof engine.generateId !== 'function') {
    throw new TypeError('socketio(io): expected a socket.io Server or an engine.io Server');
  }
  let generate = engine.generateId; // engine.io's own, or one the app set on the instance
  /**
   * @this {unknown} the engine.io Server
   * @param {unknown} req the handshake's http.IncomingMessage
   * @returns {Promise<string>}
   */
  async function generateRoutedId(req) {
    const info = workerInfo();
    if (!info.supervised || info.slot < 1) return generate.call(this, req);
    const slots = headroom(info.workers, maxWorkers);
    const draws = drawsFor(slots);
    for (let i = 0; i < draws; i++) {
      let id = generate.call(this, req);
      if (id !== null && typeof id === 'object' && typeof id.then === 'function') id = await id;
      id = String(id);
      if (issuedHere(id, info.slot, slots)) return id;
    }
    // engine.io answers this handshake 400 and emits 'connection_error' with this error.
    throw new Error(
      `handoff-worker socketio(): no session id for slot ${info.slot} of ${slots} in ${draws} draws ` +
        '(does generateId return the same id each time?)',
    );
  }
  // An app that sets its own generateId later (as engine.io's docs say to) replaces the
  // generator the draws come from, not the draws.
  Object.defineProperty(engine, 'generateId', {
    configurable: true,
    enumerable: true,
    get: () => generateRoutedId,
    set: (fn) => {
      if (typeof fn !== 'function') throw new TypeError('generateId must be a function');
      generate = fn;
    },
  });
  target[kPatched] = true;
  return engine;
}

/**
 * Makes socket.io's sessions find their way back to the worker that holds them under the
 * handoff supervisor, from any client (many behind one address, one keep-alive agent, a
 * browser's cookie): engine.io then issues only session ids that the app's rule
 * (`policy: {query: sid}`, or `{cookie: io}` with socket.io's `cookie` option, and
 * `missing_key: round_robin` for the handshake) sends to the worker that issued them.
 *
 * Pass a socket.io `Server` (before or after it is attached to the http.Server) or an
 * engine.io `Server`; it is returned. Calling it again does nothing. Standalone, ids are
 * engine.io's as usual.
 *
 * Sessions keep reaching their worker when the app is scaled to any count up to
 * `maxWorkers` (default: twice the worker count, at least 16); each handshake costs about
 * `maxWorkers` hashes of an id (some 5 µs each).
 *
 * @template {{ engine?: any, bind?: Function } | { generateId: Function }} S
 * @param {S} io a socket.io Server, or an engine.io Server
 * @param {{ maxWorkers?: number }} [options]
 * @returns {S}
 */
function socketio(io, options = {}) {
  if (io === null || typeof io !== 'object') {
    throw new TypeError('socketio(io): expected a socket.io Server or an engine.io Server');
  }
  const { maxWorkers } = options;
  if (maxWorkers !== undefined && !(Number.isInteger(maxWorkers) && maxWorkers >= 1)) {
    throw new RangeError(`socketio(io, {maxWorkers}): expected a whole number of at least 1, got ${maxWorkers}`);
  }
  const server = /** @type {any} */ (io);
  if (typeof server.generateId === 'function') {
    patchEngine(server, maxWorkers); // engine.io itself
    return io;
  }
  if (typeof server.bind !== 'function' || !('engine' in server || 'eio' in server || '_nsps' in server)) {
    throw new TypeError('socketio(io): expected a socket.io Server or an engine.io Server');
  }
  if (server.engine) patchEngine(server.engine, maxWorkers);
  // socket.io binds its engine in attach()/listen() (or the app binds one): patch it then.
  if (!server[kPatched]) {
    const bind = server.bind;
    /** @param {any} engine */
    server.bind = function bindRouted(engine) {
      if (engine !== null && typeof engine === 'object') patchEngine(engine, maxWorkers);
      return bind.call(this, engine);
    };
    server[kPatched] = true;
  }
  return io;
}

module.exports = { socketio };
