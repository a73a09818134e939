'use strict';
// A Node app that keeps its own metrics with prom-client, as users write one, and offers
// them to the supervisor's /metrics (serve(app, { metrics: register })), for
// tests/integration/app-metrics.test.js.
//   GET /block?ms=N  logs "blocking" and then blocks the event loop N ms (a stuck worker)
//   anything else    counts in app_requests_total{path} and answers the worker's name
// Env: PROM_DEFAULTS=1 adds prom-client's default metrics (process, heap, event loop);
// METRICS_SUM=1 asks the supervisor to add the slots up.

const http = require('node:http');
const client = require('prom-client');
const { serve, worker } = require('../../worker-sdk/node');

const register = new client.Registry();
if (process.env.PROM_DEFAULTS === '1') client.collectDefaultMetrics({ register });
const requests = new client.Counter({
  name: 'app_requests_total',
  help: 'Requests this worker answered.',
  labelNames: ['path'],
  registers: [register],
});

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/block') {
    console.log('blocking');
    const until = Date.now() + Number(url.searchParams.get('ms') ?? 3000);
    while (Date.now() < until); // the event loop answers nothing meanwhile
  } else {
    requests.inc({ path: url.pathname });
  }
  res.setHeader('X-Handoff-Worker', `${worker.app}/${worker.slot}/${process.pid}`);
  res.end('ok\n');
});

serve(server, { metrics: register, metricsSum: process.env.METRICS_SUM === '1' });
