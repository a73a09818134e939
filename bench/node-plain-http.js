'use strict';
// A plain Node http.Server, no SDK, listening itself: the reference row of
// bench/keepalive.sh. PORT, HOST, KEEP_ALIVE_TIMEOUT_MS from the environment.
const http = require('node:http');

const server = http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 13 });
  res.end('Hello, world!');
});
server.keepAliveTimeout = Number(process.env.KEEP_ALIVE_TIMEOUT_MS || 5000);
server.listen(Number(process.env.PORT || 8080), process.env.HOST || '127.0.0.1');
