// Types for handoff-worker (index.js). They need Node's own types (@types/node), as any
// program with an http.Server does. The framework shapes below are structural: this
// package depends on no framework, so an app is accepted by what it has, as at run time
// (frameworks.js).

import type { EventEmitter } from 'node:events';
import type { IncomingMessage, Server as HttpServer, ServerResponse } from 'node:http';
import type { Server as NetServer } from 'node:net';

/** What http.createServer() takes: an Express app (4 or 5) is one, so is Koa's app.callback(). */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => unknown;

/** A Koa app: served as http.createServer(app.callback()), as app.listen() does. */
export interface KoaApp {
  callback(): RequestListener;
  use(...args: any[]): unknown;
}

/**
 * A Fastify instance: its `server`, once `ready()` has resolved (the worker says it is
 * ready only then); standalone it listens with `listen()`.
 */
export interface FastifyApp<S extends NetServer = NetServer> {
  server: S;
  ready(): PromiseLike<unknown>;
  listen(options: { port?: number; host?: string; path?: string }): PromiseLike<unknown>;
  register(...args: any[]): unknown;
}

export interface ServeOptions {
  /** Standalone only: the port, or a Unix socket path. Default: PORT, else 8080. */
  port?: number | string;
  /** Standalone only: the address. Default: HOST, else every address (Fastify: its own, localhost). */
  host?: string;
  /**
   * How long a drain the master did not time (the master gone, SIGTERM, a `drain`
   * without timeout_ms) may run before the process exits. Default 5000;
   * Infinity: never force the exit.
   */
  graceMs?: number;
  /** false: leave SIGTERM to the app. Default true. */
  sigterm?: boolean;
  /**
   * A prom-client Registry (or anything with a metrics() method returning Prometheus
   * text): the supervisor's admin /metrics shows it too, with `app` and `slot` labels.
   */
  metrics?: { metrics(): string | Promise<string> };
  /** With `metrics`: the supervisor adds the slots' samples up (only the `app` label). */
  metricsSum?: boolean;
}

/** This worker, as the environment and then the master's `welcome` describe it. */
export interface WorkerInfo {
  /** Under the supervisor (an IPC channel and HANDOFF_APP). */
  supervised: boolean;
  /** The app's name in cluster.yaml; null standalone. */
  app: string | null;
  /** 1-based; 0 standalone. */
  slot: number;
  /** The app's worker count; 1 standalone. */
  workers: number;
  /** How many workers this slot has had; 0 standalone. */
  generation: number;
  pid: number;
}

/** Why a worker drains: the master's `drain`, a SIGTERM, or the master gone. */
export type DrainReason = 'drain' | 'SIGTERM' | 'disconnect';

export interface DrainEvent {
  reason: DrainReason;
  /** How long the drain may run before the process exits. */
  timeoutMs: number;
}

export interface DrainedEvent {
  reason: DrainReason;
}

/** What serve() returns. Its events are the four below (an unknown name is a type error). */
export interface Handoff<S extends NetServer = NetServer> extends EventEmitter {
  /** The server fed with the handed-over sockets (the one serve() made, for an app). */
  readonly server: S;
  /** The live worker info (the same object as `worker`). */
  readonly info: Readonly<WorkerInfo>;
  readonly supervised: boolean;
  /** True from the 'drain' event on. */
  readonly draining: boolean;

  /** The master has introduced this worker. */
  on(event: 'welcome', listener: (info: WorkerInfo) => void): this;
  /** The worker is retiring: stop timers, close pools and long-lived connections (WebSockets). */
  on(event: 'drain', listener: (event: DrainEvent) => void): this;
  /** The last connection has closed; the server is closed and the process about to exit. */
  on(event: 'drained', listener: (event: DrainedEvent) => void): this;
  /** The master has gone (a drain with reason 'disconnect' follows). */
  on(event: 'disconnect', listener: () => void): this;

  once(event: 'welcome', listener: (info: WorkerInfo) => void): this;
  once(event: 'drain', listener: (event: DrainEvent) => void): this;
  once(event: 'drained', listener: (event: DrainedEvent) => void): this;
  once(event: 'disconnect', listener: () => void): this;

  off(event: 'welcome', listener: (info: WorkerInfo) => void): this;
  off(event: 'drain', listener: (event: DrainEvent) => void): this;
  off(event: 'drained', listener: (event: DrainedEvent) => void): this;
  off(event: 'disconnect', listener: () => void): this;
}

/**
 * Serves `app` with the sockets the supervisor hands this worker; standalone (not under
 * the supervisor) it listens instead. Call it once per process. Throws a TypeError,
 * naming what it got, for anything it cannot serve.
 */
export function serve<S extends NetServer>(server: S, options?: ServeOptions): Handoff<S>;
export function serve<S extends NetServer>(fastify: FastifyApp<S>, options?: ServeOptions): Handoff<S>;
export function serve(app: RequestListener | KoaApp, options?: ServeOptions): Handoff<HttpServer>;

/** A copy of the worker info. */
export function info(): WorkerInfo;

/** The live worker info: read it when needed, a `welcome` from the master updates it. */
export const worker: Readonly<WorkerInfo>;

/** The version of the channel's protocol this SDK speaks. */
export const PROTOCOL_VERSION: number;

/**
 * Makes a socket.io server (or an engine.io server) issue session ids that the app's rule
 * (`policy: {query: sid}` or `{cookie: io}`) sends back to this worker
 * (worker-sdk/node/socketio.js). `maxWorkers`: the largest worker count the ids must keep
 * their worker through (default: twice the count, at least 16). Returns its argument, with
 * its own type: this package does not depend on socket.io's types.
 */
export function socketio<S extends object>(io: S, options?: { maxWorkers?: number }): S;

// `res.cacheDuration` on every http.ServerResponse (Express's, Fastify's reply.raw, Koa's
// ctx.res: they are all one), as importing this package's types adds it.
declare module 'http' {
  interface ServerResponse<Request extends IncomingMessage = IncomingMessage> {
    /**
     * Seconds the supervisor's output cache may keep this response (`res.cacheDuration`,
     * HTTP.SYS's name), when the app has a `cache:` and the response is otherwise
     * cacheable (a GET without Authorization; 200, 301 or 404; no Set-Cookie; no
     * Cache-Control private, no-store or no-cache; a Vary of Accept-Encoding at most).
     * Stands for `Cache-Control: public, max-age=N` for the cache only (the client gets
     * the headers the app wrote); 0: never cache this response, whatever its headers.
     * Set it before the head goes out (writeHead, or the first write or end). Ignored
     * standalone and without the supervisor's cache.
     */
    cacheDuration?: number;
  }
}
