'use strict';
// Shared by the Node SDK tests. A test plays the supervisor with Node's own
// child_process.fork: it speaks exactly our channel protocol (fd 3, json lines,
// NODE_HANDLE with SCM_RIGHTS) and, like our master, sends one handle at a time and
// waits for NODE_HANDLE_ACK. Real processes and sockets; nothing is mocked.

const { fork, spawn } = require('node:child_process');
const http = require('node:http');
const net = require('node:net');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const SCRIPTS = {
  hello: path.join(ROOT, 'examples', 'hello-node', 'server.js'),
  plain: path.join(ROOT, 'examples', 'hello-node', 'plain.js'),
  echo: path.join(__dirname, 'fixtures', 'echo-server.js'),
  // The C++ SDK's example, from the build (ctest sets HANDOFF_BIN).
  helloCpp: path.join(process.env.HANDOFF_BIN ?? path.join(ROOT, 'build', 'bin'), 'hello-cpp'),
};

const WAIT_MS = 15000; // generous: these machines are small and may be busy

// Every child we start dies with us, whatever happens to the test.
const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

// The test's own environment minus anything that would change a child's behaviour.
function childEnv(extra) {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (key.startsWith('HANDOFF_') || key.startsWith('NODE_TEST') || key === 'PORT' || key === 'HOST') {
      delete env[key];
    }
  }
  return { ...env, ...extra };
}

// Resolves with the args of the first `event` that satisfies `pred`. Rejects after `ms`,
// or as soon as `child` exits, so a broken worker fails a test instead of hanging it.
function waitFor(emitter, event, { pred = () => true, ms = WAIT_MS, child, what = event } = {}) {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      emitter.off(event, onEvent);
      if (child) child.off('exit', onExit);
    };
    const onEvent = (...args) => {
      if (!pred(...args)) return;
      done();
      resolve(args);
    };
    const onExit = (code, signal) => {
      done();
      reject(new Error(`child exited (code ${code}, signal ${signal}) while waiting for ${what}\n${child.output}`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${ms} ms waiting for ${what}${child ? `\n${child.output}` : ''}`));
    }, ms);
    emitter.on(event, onEvent);
    if (child) child.on('exit', onExit);
  });
}

// Keeps a child's output (for error messages) and IPC messages from its start, and
// kills it after the test.
function track(t, child) {
  children.add(child);
  child.messages = [];
  child.arrivals = []; // performance.now() when each message came
  child.on('message', (message) => {
    child.messages.push(message);
    child.arrivals.push(performance.now());
  });
  child.output = '';
  child.stdout.setEncoding('utf8').on('data', (s) => (child.output += s));
  child.stderr.setEncoding('utf8').on('data', (s) => (child.output += s));
  child.exited = new Promise((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    });
  });
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await child.exited;
  });
  return child;
}

const DEFAULT_ENV = { HANDOFF_APP: 'hello', HANDOFF_SLOT: '1', HANDOFF_WORKERS: '2', HANDOFF_GENERATION: '1' };

// Forks `script` as a supervised worker and speaks the master's side of its channel:
//  - with `handshake`, waits for hello then ready, and answers `welcome` if given;
//  - handOver(socket, extra) sends a socket with a `conn` message (Node's child_process
//    sends one handle at a time and holds later messages until the ACK, as our master
//    does) and resolves once the worker has acknowledged it;
//  - waitMessage(pred) resolves with the first message, seen or to come, matching pred.
async function forkWorker(t, script, { env = {}, handshake = true, welcome } = {}) {
  // A .js script runs under this Node (fork() uses process.execPath: node-sdk-NN proves
  // line NN); anything else is a worker binary (a C++ SDK example), started with the same
  // channel on fd 3.
  const options = { env: childEnv({ ...DEFAULT_ENV, ...env }), stdio: ['ignore', 'pipe', 'pipe', 'ipc'] };
  const child = track(
    t,
    script.endsWith('.js') ? fork(script, [], { ...options, execArgv: [] }) : spawn(script, [], options),
  );
  const { messages } = child;
  const waitMessage = (pred, what) => {
    const seen = messages.find(pred);
    if (seen) return Promise.resolve(seen);
    return waitFor(child, 'message', { pred, child, what }).then(([message]) => message);
  };

  if (handshake) {
    await waitMessage((m) => m && m.handoff === 'ready', 'ready');
  }
  if (welcome) child.send({ handoff: 'welcome', v: 1, ...welcome });

  // ACKs come back one per handle, in order.
  const acked = [];
  let acks = 0;
  child.on('internalMessage', (message) => {
    if (!message || message.cmd !== 'NODE_HANDLE_ACK') return;
    acks++;
    if (acked.length > 0) acked.shift()();
  });
  // Resolves once the worker has acknowledged n sockets in all.
  const waitAcks = async (n) => {
    while (acks < n) {
      await waitFor(child, 'internalMessage', { child, what: `ACK number ${n}`, pred: () => acks >= n });
    }
  };
  let nextId = 0;
  const handOver = (socket, extra = {}) => {
    nextId++;
    const ack = new Promise((resolve) => acked.push(resolve));
    child.send(
      { handoff: 'conn', v: 1, id: nextId, remote: socket.remoteAddress, port: socket.remotePort, listener: 't', ...extra },
      socket,
    );
    return ack;
  };
  const drain = (timeoutMs = 30000) => child.send({ handoff: 'drain', v: 1, timeout_ms: timeoutMs });
  return { child, messages, waitMessage, handOver, waitAcks, drain };
}

// The master's accept side: listens on an ephemeral port and calls onSocket(socket) for
// every connection (paused, nothing read). Resolves with { port, accepted }.
async function listen(t, onSocket) {
  const listener = net.createServer({ pauseOnConnect: true }, (socket) => {
    front.accepted++;
    onSocket(socket);
  });
  const front = { port: 0, accepted: 0 };
  await new Promise((resolve) => listener.listen(0, '127.0.0.1', resolve));
  t.after(() => listener.close());
  front.port = listener.address().port;
  return front;
}

// Forks `script` as a supervised worker (forkWorker) and plays the master for it: hands
// every accepted connection to the worker, by default at once (paused, nothing read);
// `onConnection(socket, handOver)` may read some bytes first and call
// handOver(socket, {head}) itself.
async function startWorker(t, script, { env = {}, handshake = true, welcome, onConnection } = {}) {
  const master = await forkWorker(t, script, { env, handshake, welcome });
  const front = await listen(t, (socket) => {
    if (onConnection) onConnection(socket, master.handOver);
    else master.handOver(socket);
  });
  master.port = front.port;
  Object.defineProperty(master, 'accepted', { get: () => front.accepted }); // by the test master
  return master;
}

// Resolves with { code, signal } once `child` has exited; rejects after `ms`.
async function exitOf(child, ms = WAIT_MS) {
  let timer;
  const timeout = new Promise((resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`worker still running after ${ms} ms\n${child.output}`)), ms);
  });
  try {
    return await Promise.race([child.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

// Starts `script` (with `args`) not as a worker: without an IPC channel, or with `ipc` one
// that is not the supervisor's (no HANDOFF_APP). Resolves once it prints the port it
// listens on.
async function startStandalone(t, script, { env = {}, ipc = false, args = [] } = {}) {
  const options = { env: childEnv({ PORT: '0', HOST: '127.0.0.1', ...env }) };
  const child = track(
    t,
    ipc
      ? fork(script, args, { ...options, execArgv: [], stdio: ['ignore', 'pipe', 'pipe', 'ipc'] })
      : spawn(process.execPath, [script, ...args], { ...options, stdio: ['ignore', 'pipe', 'pipe'] }),
  );
  const listening = () => /listening on port (\d+)/.exec(child.output);
  if (!listening()) await waitFor(child.stdout, 'data', { pred: listening, child, what: 'the listening line' });
  return { child, port: Number(listening()[1]) };
}

// One HTTP request; resolves with status, headers, body (Buffer) and the client socket's
// local port (equal local ports on one agent = one reused connection).
function request(port, { method = 'GET', path: urlPath = '/', body, agent, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: urlPath, agent, headers }, (res) => {
      const chunks = [];
      const localPort = res.socket.localPort;
      res.on('data', (chunk) => chunks.push(chunk));
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks), localPort }),
      );
      res.on('error', reject);
    });
    req.setTimeout(WAIT_MS, () => req.destroy(new Error(`request ${method} ${urlPath} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

// A TCP client that writes raw bytes and reads responses (not chunked ones), for the
// tests that must control exactly which bytes go out when.
class RawClient {
  static async connect(port) {
    const socket = net.connect(port, '127.0.0.1');
    await waitFor(socket, 'connect');
    return new RawClient(socket);
  }

  constructor(socket) {
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.waiter = null;
    this.closed = false;
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.poke();
    });
    socket.on('error', () => {}); // 'close' follows; the waiter fails there
    socket.on('close', () => {
      this.closed = true;
      this.poke();
    });
  }

  write(bytes) {
    this.socket.write(bytes);
  }

  // The next complete response: { status, headers (lower-case keys), body }.
  response(ms = WAIT_MS) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiter = null;
        reject(new Error(`no complete response in ${ms} ms; got ${JSON.stringify(this.buffer.toString('latin1'))}`));
      }, ms);
      this.waiter = { resolve, reject, timer };
      this.poke();
    });
  }

  poke() {
    if (!this.waiter) return;
    const parsed = parseResponse(this.buffer, this.closed);
    const { resolve, reject, timer } = this.waiter;
    if (parsed) {
      this.buffer = this.buffer.subarray(parsed.size);
      this.waiter = null;
      clearTimeout(timer);
      resolve(parsed.response);
    } else if (this.closed) {
      this.waiter = null;
      clearTimeout(timer);
      reject(new Error(`connection closed; got ${JSON.stringify(this.buffer.toString('latin1'))}`));
    }
  }

  close() {
    this.socket.destroy();
  }
}

// One response from the front of `buffer`, or null while incomplete. Without a
// Content-Length (a 408, say) the body runs to the end of the connection.
function parseResponse(buffer, closed) {
  const end = buffer.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const [statusLine, ...lines] = buffer.subarray(0, end).toString('latin1').split('\r\n');
  const headers = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  const length = 'content-length' in headers ? Number(headers['content-length']) : closed ? buffer.length - end - 4 : -1;
  if (length < 0 || buffer.length < end + 4 + length) return null;
  const size = end + 4 + length;
  const status = Number(statusLine.split(' ')[1]);
  return { size, response: { status, headers, body: buffer.subarray(end + 4, size) } };
}

module.exports = { SCRIPTS, WAIT_MS, waitFor, forkWorker, listen, startWorker, exitOf, startStandalone, request, RawClient };
