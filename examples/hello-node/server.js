'use strict';
// hello-node: the smallest handoff worker. Under the supervisor it serves the sockets the
// master hands it; run alone (`node server.js`, PORT/HOST from the env) it listens itself.
//   GET /     -> 200 "Hello, world!"
//   GET /pid  -> 200 process.pid
// Every answer names the worker in X-Handoff-Worker: <app>/<slot>/<pid>.

const http = require('node:http');
const { serve, worker } = require('../../worker-sdk/node');

const server = http.createServer((req, res) => {
  const body = req.url === '/pid' ? String(process.pid) : 'Hello, world!';
  res.writeHead(200, {
    'Content-Type': 'text/plain',
    'Content-Length': Buffer.byteLength(body),
    // `worker` is live: a welcome from the master updates it.
    'X-Handoff-Worker': `${worker.app ?? 'standalone'}/${worker.slot}/${process.pid}`,
  });
  res.end(body);
});

const handoff = serve(server);
if (!handoff.supervised) {
  // Tests wait for this line to learn the port (PORT=0 picks a free one).
  server.on('listening', () => console.log(`hello-node listening on port ${server.address().port}`));
}
