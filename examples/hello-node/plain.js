'use strict';
// hello-node without the SDK: a plain Node program, for apps started with
// `ready: on_spawn`. The supervisor's channel is Node's own child_process IPC, so the
// handed-over socket arrives as the second argument of 'message'. The 'message' listener
// also keeps the channel referenced, which keeps this process alive.

const http = require('node:http');

const app = process.env.HANDOFF_APP ?? 'standalone';
const slot = process.env.HANDOFF_SLOT ?? '0';

const server = http.createServer((req, res) => {
  const body = req.url === '/pid' ? String(process.pid) : 'Hello, world!';
  res.writeHead(200, {
    'Content-Type': 'text/plain',
    'Content-Length': Buffer.byteLength(body),
    'X-Handoff-Worker': `${app}/${slot}/${process.pid}`,
  });
  res.end(body);
});

process.on('message', (message, socket) => {
  if (socket) server.emit('connection', socket);
});
