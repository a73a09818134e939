'use strict';
// An Express app served by the Node SDK, as users write one, for the integration tests
// (tests/integration/handback-apps.test.js). `node express-worker.js [express|express5]`
// picks Express 4 (default) or 5 from this folder's packages.
//   GET /.../pid -> the worker's pid
//   GET /.../ip  -> JSON: what Express and the socket say about the client
// The last path segment names the action, so /2/pid works under URL routing. Every answer
// names the worker in X-Handoff-Worker: <app>/<slot>/<pid>.

const express = require(process.argv[2] ?? 'express');
const { serve, worker } = require('../../worker-sdk/node');

const app = express();
app.use((req, res, next) => {
  res.set('X-Handoff-Worker', `${worker.app ?? 'standalone'}/${worker.slot}/${process.pid}`);
  next();
});
app.get(/\/pid$/, (req, res) => res.type('text/plain').send(String(process.pid)));
app.get(/\/ip$/, (req, res) =>
  res.json({
    ip: req.ip,
    remoteAddress: req.socket.remoteAddress,
    remotePort: req.socket.remotePort,
    remoteFamily: req.socket.remoteFamily,
  }),
);

serve(app);
