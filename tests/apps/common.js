'use strict';
// Shared by the framework apps in this directory (tests/integration/frameworks.test.js
// runs them under the supervisor, tests/node/frameworks.test.js alone).

const sdk = require('../../worker-sdk/node');

// Who answered, in the X-Handoff-Worker header every app here sets: app/slot/pid.
function whoami() {
  return `${sdk.worker.app ?? 'standalone'}/${sdk.worker.slot}/${process.pid}`;
}

// A streamed response body: `count` lines, produced one at a time, so the framework
// writes it chunked as it comes.
async function* lines(count = 64) {
  for (let i = 0; i < count; i++) yield `line ${i} ${'.'.repeat(1000)}\n`;
}

// serve(), and standalone the line the tests wait for to learn the port (PORT=0).
function serve(app) {
  const handoff = sdk.serve(app);
  if (!handoff.supervised) {
    handoff.server.on('listening', () => console.log(`listening on port ${handoff.server.address().port}`));
  }
  return handoff;
}

module.exports = { whoami, lines, serve, sdk };
