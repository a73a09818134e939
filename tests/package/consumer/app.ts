// A TypeScript app on handoff-worker, CommonJS (module nodenext, no "type": "module"):
// the http.Server of docs/recipes/typescript.md. tests/package/types.test.js compiles it
// with tsc --strict against the installed package and runs it standalone.
import http from 'node:http';
import { serve, worker } from 'handoff-worker';

const server = http.createServer((req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end(`Hello from ${worker.app ?? 'standalone'}/${worker.slot}\n`);
});

const handoff = serve(server); // alone: listens on PORT
handoff.on('drain', ({ reason, timeoutMs }) => console.log(`draining (${reason}), ${timeoutMs} ms at most`));
if (!handoff.supervised) {
  handoff.server.on('listening', () => {
    const address = handoff.server.address();
    if (address && typeof address === 'object') console.log(`listening on port ${address.port}`);
  });
}
