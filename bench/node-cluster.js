'use strict';
// Node's cluster module running the same app as every other Node configuration
// (examples/hello-node/server.js, which listens on PORT/HOST when not supervised).
// Scheduling is Node's default on Linux: round robin by the primary.
//   PORT=8080 HOST=127.0.0.1 WORKERS=2 node bench/node-cluster.js
const cluster = require('node:cluster');
const path = require('node:path');

if (cluster.isPrimary) {
  const n = Number.parseInt(process.env.WORKERS ?? '2', 10);
  for (let i = 0; i < n; i++) cluster.fork();
  const stop = () => {
    for (const w of Object.values(cluster.workers)) w.process.kill('SIGTERM');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  require(path.join(__dirname, '..', 'examples', 'hello-node', 'server.js'));
}
