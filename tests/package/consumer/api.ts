// What the declarations accept and refuse, checked by tsc --strict (never run: it calls
// serve() many times). A line after @ts-expect-error must be an error, or tsc fails.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import Fastify from 'fastify';
import {
  serve,
  info,
  worker,
  socketio,
  PROTOCOL_VERSION,
  type DrainReason,
  type Handoff,
  type ServeOptions,
  type WorkerInfo,
} from 'handoff-worker';

export function servers(): void {
  const h1: Handoff<http.Server> = serve(http.createServer());
  const h2: Handoff<https.Server> = serve(https.createServer({}));
  const h3: Handoff<net.Server> = serve(net.createServer());
  h1.server.keepAliveTimeout = 65000;
  h2.server.setSecureContext({});
  h3.server.maxConnections = 10;
}

export function apps(): void {
  // A request listener: an Express app has this shape, so has Koa's app.callback().
  const listener: Handoff<http.Server> = serve((req: http.IncomingMessage, res: http.ServerResponse) => res.end());
  listener.server.headersTimeout = 1000;
  // A Koa app, by its shape (koa ships no types of its own).
  serve({ callback: () => (req: http.IncomingMessage, res: http.ServerResponse) => res.end(), use: () => undefined });
  // A Fastify instance, with Fastify's own types.
  const fastify = Fastify();
  const f: Handoff<http.Server> = serve(fastify);
  f.server.close();
}

export function events(handoff: Handoff): void {
  handoff.on('welcome', (w) => {
    const slot: number = w.slot;
    const app: string | null = w.app;
    void [slot, app];
  });
  handoff.on('drain', ({ reason, timeoutMs }) => {
    const why: DrainReason = reason;
    const ms: number = timeoutMs;
    void [why, ms];
  });
  handoff.once('drained', ({ reason }) => void reason);
  handoff.on('disconnect', () => undefined);
  handoff.off('disconnect', () => undefined);
  const draining: boolean = handoff.draining;
  void draining;
  // @ts-expect-error: a drain's reason is one of three
  handoff.on('drain', ({ reason }: { reason: 'shutdown' }) => void reason);
  // @ts-expect-error: there is no such event
  handoff.on('drainned', () => undefined);
}

export function information(): void {
  const copy: WorkerInfo = info();
  copy.slot = 2; // a copy is the app's own
  const version: number = PROTOCOL_VERSION;
  const supervised: boolean = worker.supervised;
  void [version, supervised];
  // @ts-expect-error: the live info is the SDK's to update
  worker.slot = 3;
}

export function options(): void {
  const all: ServeOptions = { port: 8080, host: '127.0.0.1', graceMs: Infinity, sigterm: false };
  serve(http.createServer(), all);
  serve(http.createServer(), { port: '/run/app.sock' });
  // @ts-expect-error: an unknown option
  serve(http.createServer(), { prot: 8080 });
  // The app's own metrics: a prom-client Registry, or anything with its metrics().
  serve(http.createServer(), { metrics: { metrics: async () => 'hits_total 1\n' }, metricsSum: true });
  // @ts-expect-error: a registry answers metrics()
  serve(http.createServer(), { metrics: {} });
}

export function refusals(): void {
  // @ts-expect-error: a port is not a server
  serve(8080);
  // @ts-expect-error: neither is a promise of one
  serve(Promise.resolve(http.createServer()));
  // @ts-expect-error: nor a plain object
  serve({});
}

export function socketIo<S extends { engine?: unknown }>(io: S): S {
  const same: S = socketio(io, { maxWorkers: 8 });
  // @ts-expect-error: maxWorkers is a number
  socketio(io, { maxWorkers: 'eight' });
  return same;
}
