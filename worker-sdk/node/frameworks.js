'use strict';
// What serve() was given, turned into what it needs: the server to feed sockets into,
// what must finish before that server may take a connection, and how it listens when
// the program runs alone. People pass what their framework hands them, so this takes:
//   - a net.Server: http.Server, https.Server (and http2's, tls's): as it is;
//   - a request listener, such as an Express app (4 or 5) or Koa's app.callback():
//     wrapped in http.createServer, as the framework's own listen() does;
//   - a Koa app: http.createServer(app.callback()), as app.listen() does;
//   - a Fastify instance: its .server, once fastify.ready() has resolved (its plugins
//     and routes load asynchronously, and a request before then fails); alone, it
//     listens through fastify.listen(), so its onListen hooks run as usual.
// Anything else is refused with what it was and what to pass instead. The checks look
// at public shapes only (no framework is required here: the SDK has no dependencies).

const http = require('node:http');
const net = require('node:net');

const ACCEPTED =
  'serve() takes an http.Server, https.Server or net.Server, a request listener ' +
  "(an Express app, Koa's app.callback()), a Koa app or a Fastify instance";

// -> { server, ready, listen }: `ready` is null or a function returning a promise that
// resolves once the server may take connections; listen(port, host) listens alone.
function toServer(app) {
  if (app instanceof net.Server) return plain(app);
  if (typeof app === 'function') {
    if (isUnboundKoaCallback(app)) {
      refuse(app, "this is Koa's app.callback itself, not called: pass serve(app.callback()) or the app, serve(app)");
    }
    return plain(http.createServer(app));
  }
  if (isFastify(app)) return fastify(app);
  if (isKoa(app)) return plain(http.createServer(app.callback()));
  refuse(app, hint(app));
}

function plain(server) {
  return { server, ready: null, listen: (port, host) => server.listen(port, host) };
}

// fastify.listen() waits for ready() itself. It takes a port number or a Unix socket
// path, as server.listen() does; with no host Fastify listens on localhost.
function fastify(app) {
  return {
    server: app.server,
    ready: () => app.ready(),
    listen: (port, host) => {
      const where = Number.isInteger(Number(port)) ? { port: Number(port), host } : { path: String(port) };
      return app.listen(where);
    },
  };
}

// A Fastify instance: an object (not a function) whose http server exists from the start
// and whose ready() boots its plugins. fastify.server alone is an http.Server and is
// taken as such (the app must then have awaited fastify.ready() itself).
function isFastify(app) {
  return (
    isObject(app) &&
    app.server instanceof net.Server &&
    typeof app.ready === 'function' &&
    typeof app.listen === 'function' &&
    typeof app.register === 'function'
  );
}

// A Koa app: middleware behind callback(), which returns the request listener.
function isKoa(app) {
  return isObject(app) && typeof app.callback === 'function' && typeof app.use === 'function';
}

// `serve(app.callback)`: Koa's method itself, which would run without its `this`.
function isUnboundKoaCallback(fn) {
  return fn.name === 'callback' && fn.length === 0;
}

function isObject(value) {
  return value !== null && typeof value === 'object';
}

// What to pass instead, for the mistakes people make.
function hint(app) {
  if (app === undefined || app === null) return 'pass the server (or app) to serve: serve(server)';
  if (typeof app === 'number' || typeof app === 'string') {
    return 'serve() takes the server, not where to listen: serve(server, { port }) (standalone only)';
  }
  if (typeof app.then === 'function') return 'it is a promise: await it first';
  if (typeof app.getHttpServer === 'function') {
    return "a NestJS application: `await app.init()`, then serve(app.getHttpServer())";
  }
  if (app.server instanceof net.Server) return 'pass its server: serve(app.server)';
  if (typeof app.listen === 'function') {
    return 'an app with its own listen(): pass the http.Server it serves on, or its request listener';
  }
  return 'pass the http.Server your app serves on';
}

function refuse(app, why) {
  throw new TypeError(`serve(): got ${describe(app)}; ${why}. ${ACCEPTED}.`);
}

function describe(value) {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'undefined':
      return 'undefined';
    case 'string':
      return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return `the ${typeof value} ${String(value)}`;
    case 'function':
      return value.name ? `a function (${value.name})` : 'a function';
    default: {
      if (typeof value.then === 'function') return 'a Promise';
      const name = value.constructor && typeof value.constructor.name === 'string' ? value.constructor.name : '';
      return name && name !== 'Object' ? `an object (${name})` : 'an object';
    }
  }
}

module.exports = { toServer };
