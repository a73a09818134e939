'use strict';
// An Express app served by the SDK: `node express-app.js [express|express5]` picks
// Express 4 (the `express` package) or 5 (`express5`, an npm alias of express@5).
//   GET  /json          -> {framework, version, slot}
//   POST /echo          -> {received: <the JSON body, parsed by express.json()>}
//   GET  /static/*      -> files of ./public, by express.static
//   GET  /stream        -> common.lines(), streamed (chunked)

const path = require('node:path');
const { Readable } = require('node:stream');
const { whoami, lines, serve, sdk } = require('./common');

const pkg = process.argv[2] ?? 'express';
const express = require(pkg);
const { version } = require(`${pkg}/package.json`);

const app = express();
app.use((req, res, next) => {
  res.set('X-Handoff-Worker', whoami());
  next();
});
app.use(express.json({ limit: '1mb' }));
app.use('/static', express.static(path.join(__dirname, 'public')));
app.get('/json', (req, res) => res.json({ framework: 'express', version, slot: sdk.worker.slot }));
app.post('/echo', (req, res) => res.json({ received: req.body }));
app.get('/stream', (req, res) => {
  res.type('text/plain');
  Readable.from(lines()).pipe(res);
});

serve(app);
