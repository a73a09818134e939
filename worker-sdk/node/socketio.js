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
// own slot: it draws ids from engine.io's own generator (or the app's) until one does,
// about `workers` draws (route-key.js computes the master's decision in JS).
//
// The key the master hashes is the id as the client sends it back: engine.io-client puts it
// in the query with encodeURIComponent, and engine.io's cookie is serialized with it too;
// engine.io's default ids are base64url, which it leaves unchanged.

const { slotForKey } = require('./route-key');

const kPatched = Symbol('handoff.socketio');
// Draws before giving up: with N workers a draw lands on this slot with probability 1/N,
// so 32·N + 32 draws all miss with probability about e^-32. Only a generator that keeps
// returning the same id gets there.
const drawsFor = (/** @type {number} */ workers) => 32 * workers + 32;

// The SDK's live worker info (slot and worker count from the master's `welcome`). Required
// when first needed: index.js exports this module, so it is still loading when this one is.
const workerInfo = () => require('./index').worker;

/**
 * Whether the master sends `id`, as the client will send it back, to this worker's slot.
 * @param {string} id
 * @param {{ slot: number, workers: number }} info
 */
function issuedHere(id, info) {
  return slotForKey(encodeURIComponent(id), info.workers) === info.slot - 1;
}

/**
 * Makes an engine.io server issue session ids that the app's routing rule
 * (`policy: {query: sid}` or `{cookie: io}`, with `missing_key: round_robin`) sends back to
 * the worker that issued them. Standalone, or with one worker, ids are left as they are.
 * The slot and the worker count are read at each handshake, from the SDK's `worker`.
 *
 * @template {{ generateId: Function }} E
 * @param {E} engine an engine.io Server
 * @returns {E}
 */
function patchEngine(engine) {
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
    if (!info.supervised || info.workers <= 1 || info.slot < 1) return generate.call(this, req);
    const draws = drawsFor(info.workers);
    for (let i = 0; i < draws; i++) {
      let id = generate.call(this, req);
      if (id !== null && typeof id === 'object' && typeof id.then === 'function') id = await id;
      id = String(id);
      if (issuedHere(id, info)) return id;
    }
    // engine.io answers this handshake 400 and emits 'connection_error' with this error.
    throw new Error(
      `handoff-worker socketio(): no session id for slot ${info.slot} of ${info.workers} in ${draws} draws ` +
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
 * engine.io `Server`; it is returned. Calling it again does nothing. Standalone, or with
 * one worker, ids are engine.io's as usual.
 *
 * @template {{ engine?: any, bind?: Function } | { generateId: Function }} S
 * @param {S} io a socket.io Server, or an engine.io Server
 * @returns {S}
 */
function socketio(io) {
  if (io === null || typeof io !== 'object') {
    throw new TypeError('socketio(io): expected a socket.io Server or an engine.io Server');
  }
  const server = /** @type {any} */ (io);
  if (typeof server.generateId === 'function') {
    patchEngine(server); // engine.io itself
    return io;
  }
  if (typeof server.bind !== 'function' || !('engine' in server || 'eio' in server || '_nsps' in server)) {
    throw new TypeError('socketio(io): expected a socket.io Server or an engine.io Server');
  }
  if (server.engine) patchEngine(server.engine);
  // socket.io binds its engine in attach()/listen() (or the app binds one): patch it then.
  if (!server[kPatched]) {
    const bind = server.bind;
    /** @param {any} engine */
    server.bind = function bindRouted(engine) {
      if (engine !== null && typeof engine === 'object') patchEngine(engine);
      return bind.call(this, engine);
    };
    server[kPatched] = true;
  }
  return io;
}

module.exports = { socketio };
