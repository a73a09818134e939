'use strict';
// A plain http server with a `ws` WebSocket server on it (so it has its own 'upgrade'
// listener), served by the Node SDK, for the integration tests
// (tests/integration/handback-apps.test.js).
//   GET /.../pid -> the worker's pid
//   a WebSocket on any path: each message comes back prefixed with <app>/<slot>/<pid>
// Every HTTP answer names the worker in X-Handoff-Worker: <app>/<slot>/<pid>.

const http = require('node:http');
const { WebSocketServer } = require('ws');
const { serve, worker } = require('../../worker-sdk/node');

const name = () => `${worker.app ?? 'standalone'}/${worker.slot}/${process.pid}`;

const server = http.createServer((req, res) => {
  const body = req.url.endsWith('/pid') ? String(process.pid) : 'Hello, world!';
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body), 'X-Handoff-Worker': name() });
  res.end(body);
});

const wss = new WebSocketServer({ server });
wss.on('connection', (ws) => ws.on('message', (data) => ws.send(`${name()} ${data}`)));

serve(server);
