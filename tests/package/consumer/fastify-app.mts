// A TypeScript app on handoff-worker, an ES module: Fastify, whose instance serve()
// takes as it is. tests/package/types.test.js compiles it with tsc --strict against the
// installed package and runs it standalone.
import Fastify from 'fastify';
import { serve, worker } from 'handoff-worker';

const fastify = Fastify();
fastify.get('/', async () => ({ hello: worker.app ?? 'standalone', slot: worker.slot }));

const handoff = serve(fastify); // waits for fastify.ready(); alone: fastify.listen()
handoff.on('drained', () => void fastify.close());
if (!handoff.supervised) {
  handoff.server.on('listening', () => {
    const address = handoff.server.address();
    if (address && typeof address === 'object') console.log(`listening on port ${address.port}`);
  });
}
