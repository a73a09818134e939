'use strict';
// The smallest Node receiver of handed-over sockets, for bench/reference/ipc_sender.c:
// Node's own IPC handle receive (process.on('message', (m, socket) => ...)) feeding a
// plain http.Server, answering 13 bytes. With the sender, the floor of the Node path:
// what Node itself costs per socket received and served. WITH_SDK=1 serves the same
// server through our Node SDK instead (HANDOFF_APP must be set, as under the supervisor):
// the difference is what the SDK adds on the receive path.
const http = require('node:http');

const server = http.createServer((req, res) => {
  const body = 'Hello, world!';
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
});
if (process.env.WITH_SDK === '1') {
  require('../worker-sdk/node').serve(server);
} else {
  process.on('message', (message, socket) => {
    if (message && message.handoff === 'conn' && socket) server.emit('connection', socket);
  });
}
