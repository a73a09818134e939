'use strict';
// hello-node: the smallest handoff worker. Under the supervisor it serves the sockets the
// master hands it; run alone (`node server.js`, PORT/HOST from the env) it listens itself.
//   GET /     -> 200 "Hello, world!"
//   GET /pid  -> 200 process.pid
//   GET /cached -> 200 "Hello, world!" with Cache-Control: public, max-age=60 (an app with
//                  `cache:` keeps it in the master's output cache)
//   GET /slow?ms=N -> 200 "slow N ms", answered after N ms (0..60000; integration tests
//                    use it to have a request in flight during a drain or a shutdown)
//   POST /echo -> 200 with the request's body
// The last path segment names the action, so /3/room/pid works under URL routing too.
// Every answer names the worker in X-Handoff-Worker: <app>/<slot>/<pid>.

const http = require('node:http');
const { serve, worker } = require('../../worker-sdk/node');

const SLOW_MAX_MS = 60000;

const server = http.createServer((req, res) => {
  const query = req.url.indexOf('?');
  const pathname = query < 0 ? req.url : req.url.slice(0, query);
  const action = pathname.slice(pathname.lastIndexOf('/') + 1);
  if (action === 'echo') {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => reply(res, Buffer.concat(chunks)));
    return;
  }
  if (action === 'slow') {
    const asked = Number.parseInt(new URLSearchParams(req.url.slice(query + 1)).get('ms') ?? '', 10);
    const ms = Math.min(Math.max(asked || 0, 0), SLOW_MAX_MS);
    setTimeout(() => reply(res, `slow ${ms} ms`), ms);
    return;
  }
  if (action === 'cached') {
    reply(res, 'Hello, world!', { 'Cache-Control': 'public, max-age=60' });
    return;
  }
  reply(res, action === 'pid' ? String(process.pid) : 'Hello, world!');
});

function reply(res, body, headers = {}) {
  res.writeHead(200, {
    'Content-Type': 'text/plain',
    'Content-Length': Buffer.byteLength(body),
    // `worker` is live: a welcome from the master updates it.
    'X-Handoff-Worker': `${worker.app ?? 'standalone'}/${worker.slot}/${process.pid}`,
    ...headers,
  });
  res.end(body);
}

const handoff = serve(server);
if (!handoff.supervised) {
  // Tests wait for this line to learn the port (PORT=0 picks a free one).
  server.on('listening', () => console.log(`hello-node listening on port ${server.address().port}`));
}
