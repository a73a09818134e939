'use strict';
// A net.Server (no HTTP) served by the SDK: every line a client sends comes back
// prefixed with the worker that read it, "<app>/<slot>/<pid> <line>".

const net = require('node:net');
const { whoami, serve } = require('./common');

const server = net.createServer((socket) => {
  let partial = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop();
    for (const line of lines) socket.write(`${whoami()} ${line}\n`);
  });
});

serve(server);
