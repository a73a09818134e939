'use strict';
// A plain http server with socket.io on it (engine.io's own 'request' and 'upgrade'
// listeners), served by the Node SDK, for the integration tests
// (tests/integration/handback-apps.test.js).
//   GET /.../pid      -> the worker's pid
//   socket.io at /<slot>/socket.io (so url_segment routing sends it to this slot): an
//   `echo` event is answered with `<app>/<slot>/<pid> <text>`
// Every HTTP answer of the app names the worker in X-Handoff-Worker: <app>/<slot>/<pid>.

const http = require('node:http');
const { Server } = require('socket.io');
const { serve, worker } = require('../../worker-sdk/node');

const name = () => `${worker.app ?? 'standalone'}/${worker.slot}/${process.pid}`;

const server = http.createServer((req, res) => {
  const body = req.url.endsWith('/pid') ? String(process.pid) : 'Hello, world!';
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body), 'X-Handoff-Worker': name() });
  res.end(body);
});

const io = new Server(server, { path: `/${worker.slot}/socket.io` });
io.on('connection', (socket) => socket.on('echo', (text, answer) => answer(`${name()} ${text}`)));

serve(server);
