'use strict';
// An https.Server served by the SDK: `node https-app.js KEY.pem CERT.pem`. TLS runs in
// the worker, on the socket the master handed over.
//   GET / -> "secure"

const fs = require('node:fs');
const https = require('node:https');
const { whoami, serve } = require('./common');

const [key, cert] = process.argv.slice(2).map((file) => fs.readFileSync(file));
const server = https.createServer({ key, cert }, (req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Handoff-Worker': whoami() });
  res.end('secure\n');
});

serve(server);
