'use strict';
// A Fastify app served by the SDK: serve(fastify) waits for fastify.ready() before the
// worker takes connections.
//   GET  /json    -> {framework, version, slot}
//   POST /echo    -> {received: <the JSON body>}
//   GET  /stream  -> common.lines(), streamed (chunked)
//   GET  /booted  -> {booted: true}, a route of a plugin that boots asynchronously (as one
//                    that connects to a database does): it exists only after ready()
// Once drained, fastify.close() runs its onClose hooks; the one here prints a line.
// Env: FASTIFY_BOOT_MS: how long the plugin boots (300 ms); FASTIFY_BOOT_ERROR: the
// plugin fails to boot with this message.

const { Readable } = require('node:stream');
const Fastify = require('fastify');
const { whoami, lines, serve, sdk } = require('./common');

const BOOT_MS = Number(process.env.FASTIFY_BOOT_MS || 300);

const fastify = Fastify({ bodyLimit: 1024 * 1024 });
fastify.addHook('onRequest', async (request, reply) => {
  reply.header('X-Handoff-Worker', whoami());
});
fastify.register(async (instance) => {
  await new Promise((resolve) => setTimeout(resolve, BOOT_MS));
  if (process.env.FASTIFY_BOOT_ERROR) throw new Error(process.env.FASTIFY_BOOT_ERROR);
  instance.get('/booted', async () => ({ booted: true }));
});
fastify.get('/json', async () => ({ framework: 'fastify', version: fastify.version, slot: sdk.worker.slot }));
fastify.post('/echo', async (request) => ({ received: request.body }));
fastify.get('/stream', (request, reply) => {
  reply.type('text/plain').send(Readable.from(lines()));
});
fastify.addHook('onClose', async () => console.log(`fastify onClose ${whoami()}`));

const handoff = serve(fastify);
// Not on 'drain': a closing Fastify answers 503 to requests still to come on the
// connections the drain serves out.
handoff.on('drained', () => fastify.close());
