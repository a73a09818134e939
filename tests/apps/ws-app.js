'use strict';
// A WebSocket echo with ws on an http.Server served by the SDK; plain HTTP requests get a
// text answer. `node ws-app.js [upgrade|attached]`: ws in its noServer mode behind the
// server's 'upgrade' event (the default), or attached with new WebSocketServer({ server }).
//   ws://.../echo -> first a message {hello: <app/slot/pid>}, then every message echoed
// The handshake's response names the worker in X-Handoff-Worker. On the SDK's 'drain'
// every WebSocket is closed with 1001 (going away): the SDK cannot close them itself.

const http = require('node:http');
const { WebSocketServer } = require('ws');
const { whoami, serve } = require('./common');

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Handoff-Worker': whoami() });
  res.end('a WebSocket echo: ws://.../echo\n');
});

const attached = process.argv[2] === 'attached';
const wss = attached ? new WebSocketServer({ server, path: '/echo' }) : new WebSocketServer({ noServer: true });
wss.on('headers', (headers) => headers.push(`X-Handoff-Worker: ${whoami()}`));
wss.on('connection', (ws) => {
  ws.send(JSON.stringify({ hello: whoami() }));
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});

if (!attached) {
  server.on('upgrade', (req, socket, head) => {
    if (req.url !== '/echo') {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });
}

const handoff = serve(server);
handoff.on('drain', () => {
  for (const ws of wss.clients) ws.close(1001, 'worker draining');
});
