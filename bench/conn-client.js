'use strict';
// N sequential connections, one `GET /` with `Connection: close` each, waiting for the
// whole answer before the next: a fixed count of hand-offs for the callgrind measurement.
//   node bench/conn-client.js PORT N [PATHS]   (exit 1 if any answer is not a 200)
// PATHS: comma-separated request paths taken in turn (default "/"; "/1/,/2/" for url_segment).
const net = require('node:net');
const port = Number(process.argv[2]);
const total = Number(process.argv[3]);
const paths = (process.argv[4] || '/').split(',');
let done = 0;
let failed = 0;

function one() {
  if (done === total) {
    if (failed) console.error(`conn-client: ${failed} of ${total} connections failed`);
    process.exit(failed ? 1 : 0);
  }
  const chunks = [];
  const s = net.connect(port, '127.0.0.1', () => {
    s.end(`GET ${paths[done % paths.length]} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  });
  s.on('data', (d) => chunks.push(d));
  s.on('error', () => {});
  s.on('close', () => {
    if (!Buffer.concat(chunks).toString('latin1').startsWith('HTTP/1.1 200')) failed++;
    done++;
    setImmediate(one);
  });
}
one();
