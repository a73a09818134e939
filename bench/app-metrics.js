'use strict';
// What the apps' own metrics cost a scrape: the supervisor with N Node workers (default 4)
// running tests/apps/prom-worker.js with prom-client's default metrics; prints the size
// of /metrics and the latency of SCRAPES sequential scrapes (median, p90, max).
//   HANDOFF_BIN=$PWD/build/bin build/node-lts/node_modules/node24/bin/node bench/app-metrics.js [workers] [scrapes]
const http = require('node:http');
const path = require('node:path');
const h = require('../tests/integration/helpers');

const WORKERS = Number(process.argv[2] ?? 4);
const SCRAPES = Number(process.argv[3] ?? 100);

function scrape(port) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    http
      .get({ host: '127.0.0.1', port, path: '/metrics', agent: false }, (res) => {
        let size = 0;
        res.on('data', (d) => (size += d.length));
        res.on('end', () => resolve({ size, ms: performance.now() - started }));
      })
      .on('error', reject);
  });
}

(async () => {
  const [port, admin] = [await h.freePort(), await h.freePort()];
  const sup = await h.startSupervisor(
    `listeners: [{address: "127.0.0.1:${port}", name: web}]
apps:
  - name: prom
    command: ${JSON.stringify([h.NODE, path.join(h.ROOT, 'tests/apps/prom-worker.js')])}
    workers: ${WORKERS}
    listeners: [web]
    env: {PROM_DEFAULTS: "1"}
admin: 127.0.0.1:${admin}
`,
    { ready: WORKERS },
  );
  try {
    await scrape(admin); // the first one warms the registries up
    const runs = [];
    for (let i = 0; i < SCRAPES; i++) runs.push(await scrape(admin));
    const ms = runs.map((r) => r.ms).sort((a, b) => a - b);
    const at = (q) => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))].toFixed(1);
    console.log(`${WORKERS} workers, ${SCRAPES} scrapes: /metrics ${runs.at(-1).size} bytes; ` +
      `median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${ms.at(-1).toFixed(1)} ms`);
  } finally {
    await sup.stop();
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});
