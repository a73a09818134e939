'use strict';
// An app that logs as apps do, for tests/integration/logs.test.js:
//   GET /say?text=T            -> prints T on stdout (console.log)
//   GET /pino?msg=M            -> one pino JSON line on stdout (level 30, msg M, res.statusCode 200)
//   GET /spam?lines=N&size=S   -> N lines of S bytes on stdout, as fast as stdout takes them
// Each answers "ok" once what it printed is written.

const http = require('node:http');
const pino = require('pino');
const { serve } = require('./common');

const logger = pino(); // JSON lines on stdout, as a production Node app writes them

function done(res) {
  res.end('ok\n');
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/say') {
    process.stdout.write(`${url.searchParams.get('text') ?? ''}\n`, () => done(res));
  } else if (url.pathname === '/pino') {
    logger.info({ res: { statusCode: 200 } }, url.searchParams.get('msg') ?? 'request completed');
    done(res);
  } else if (url.pathname === '/spam') {
    const lines = Math.min(Number(url.searchParams.get('lines') ?? 0), 100000);
    const text = 's'.repeat(Math.min(Number(url.searchParams.get('size') ?? 100), 16000));
    let i = 0;
    (function write() {
      while (i < lines) if (!process.stdout.write(`${i++} ${text}\n`)) return process.stdout.once('drain', write);
      process.stdout.write('', () => done(res));
    })();
  } else {
    res.statusCode = 404;
    res.end();
  }
});
serve(server);
