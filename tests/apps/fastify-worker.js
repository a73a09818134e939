'use strict';
// A Fastify app served by the Node SDK (Fastify makes its own http.Server, without
// 'upgrade' listeners), for the integration tests (tests/integration/handback-apps.test.js,
// client-address.test.js).
//   GET /.../pid -> the worker's pid
//   GET /.../ip  -> JSON: what Fastify and the socket say about the client
// Every answer names the worker in X-Handoff-Worker: <app>/<slot>/<pid>.

const Fastify = require('fastify');
const { serve, worker } = require('../../worker-sdk/node');

const app = Fastify();
app.addHook('onSend', async (request, reply, payload) => {
  reply.header('X-Handoff-Worker', `${worker.app ?? 'standalone'}/${worker.slot}/${process.pid}`);
  return payload;
});
app.get('/*', async (request, reply) => {
  if (request.url.endsWith('/pid')) return reply.type('text/plain').send(String(process.pid));
  if (request.url.endsWith('/ip')) {
    const { socket } = request.raw;
    return { ip: request.ip, remoteAddress: socket.remoteAddress, remotePort: socket.remotePort, remoteFamily: socket.remoteFamily };
  }
  return reply.type('text/plain').send('Hello, world!');
});

// Routes are ready once Fastify is; the SDK then feeds its server the master's sockets.
app.ready().then(() => serve(app.server));
