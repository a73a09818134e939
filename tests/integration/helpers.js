'use strict';
// Drives the real supervisor binary: writes a config, starts it, waits for its log lines,
// makes real HTTP requests (from chosen loopback source addresses), and stops it.

const { execFileSync, spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const os = require('node:os');
const path = require('node:path');

const windows = require('./windows'); // the same suite against the Windows build, under wine
const { freePort } = require('./ports'); // below the ephemeral range, a block per process

const ROOT = process.env.HANDOFF_SOURCE_DIR || path.resolve(__dirname, '../..');
const BIN = path.resolve(process.env.HANDOFF_BIN || path.join(ROOT, 'build/bin'));
const EXE = windows.enabled ? '.exe' : '';
// A plugin's file name as the build writes it: libNAME.so, or libNAME.dll for Windows.
const pluginFile = (name, dir = '') => path.join(BIN, '..', 'lib', dir, `lib${name}${windows.enabled ? '.dll' : '.so'}`);
const SUPERVISOR = path.join(BIN, `supervisor${EXE}`);
// `prefix`: a command that execs the supervisor (same pid), as `prlimit --nofile=N:N`.
function launch(args, options, prefix = []) {
  if (windows.enabled) return windows.spawnSupervisor(SUPERVISOR, args, options);
  const argv = [...prefix, SUPERVISOR, ...args];
  return spawn(argv[0], argv.slice(1), options);
}
// argv that runs `supervisor ARGS` to completion (the command-line client: status, scale,
// stop...), through wine for the Windows build.
function supervisorArgv(args) {
  return windows.enabled ? windows.supervisorArgv(SUPERVISOR, args) : [SUPERVISOR, ...args];
}
const TIMEOUT = 20000; // generous: the sanitizer build is slow

const SANITIZER_REPORT = /ERROR: (Address|Leak|UndefinedBehavior)Sanitizer|runtime error:/;

// Masters that died while a test ran, not stopped by it (a nonzero exit or a signal the
// test did not send through sup.kill()). A dead master is the worst bug there is, never
// a flake: from that moment every wait, load and poll of this test file fails at once
// with the master's exit status and last lines, instead of timing out much later.
const deaths = [];
function describeExit({ code, signal }) {
  return signal ? `killed by ${signal}` : `exit code ${code}`;
}
function checkMasters() {
  if (deaths.length) throw deaths[0];
}
const running = new Set();
process.on('exit', () => {
  for (const s of running) s.child.kill('SIGKILL');
});

// A fresh directory for a test's files, removed when the test file's process exits.
const tempDirs = [];
function tempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'handoff-test-'));
  if (tempDirs.push(dir) === 1)
    process.on('exit', () => tempDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
  return dir;
}

// Collects the lines a process writes and lets a test wait for one that matches.
class LineWatcher {
  constructor() {
    this.lines = [];
    this.waiters = [];
    this.failure = null;
  }
  // Nothing more will come (the process died): every wait for a line not seen ends now.
  fail(error) {
    this.failure = error;
    for (const w of this.waiters.splice(0)) w.reject(error);
  }
  attach(stream) {
    let partial = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk) => {
      partial += chunk;
      let nl;
      while ((nl = partial.indexOf('\n')) >= 0) {
        this.push(partial.slice(0, nl));
        partial = partial.slice(nl + 1);
      }
    });
  }
  push(line) {
    if (process.env.HANDOFF_TEST_VERBOSE) console.error(line);
    this.lines.push(line);
    for (const w of [...this.waiters]) {
      const m = line.match(w.re);
      if (m) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(m);
      }
    }
  }
  // Resolves with the first match at or after line index `from` (default: any line).
  waitFor(re, { from = 0, timeout = TIMEOUT } = {}) {
    for (let i = from; i < this.lines.length; i++) {
      const m = this.lines[i].match(re);
      if (m) return Promise.resolve(m);
    }
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const w = { re };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        reject(new Error(`timed out waiting for ${re}; log so far:\n${this.lines.join('\n')}`));
      }, timeout);
      w.resolve = (m) => {
        clearTimeout(timer);
        resolve(m);
      };
      w.reject = (e) => {
        clearTimeout(timer);
        reject(e);
      };
      this.waiters.push(w);
    });
  }
  mark() {
    return this.lines.length;
  }
}

// Starts `supervisor --config <file>` with the given YAML text (cwd defaults to the repo
// root so commands can say build/bin/hello-cpp). Resolves once `ready` slots said ready.
// Options: `file` reuses a config path (a restart), `env` adds to the environment, `args`
// adds arguments, `prefix` runs the supervisor through a program that execs it (same pid),
// as `prlimit --nofile=N:N` or `systemd-socket-activate` (not under wine); `extraStdio`
// gives it descriptors from 3 on, inherited as a careless parent would pass them.
async function startSupervisor(yaml, { ready = 0, file: reuse, env = {}, args = [], prefix = [], extraStdio = [] } = {}) {
  const file = reuse ?? path.join(tempDir(), 'cluster.yaml');
  const dir = path.dirname(file);
  fs.writeFileSync(file, yaml);
  const stdio = ['ignore', 'pipe', 'pipe', ...extraStdio];
  const child = launch(['--config', file, ...args], { stdio, env: { ...process.env, ...env } }, prefix);
  const log = new LineWatcher();
  log.attach(child.stdout);
  log.attach(child.stderr);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  const outputPipes = [child.stdout, child.stderr].map(pipeInode);
  const closed = new Promise((resolve) => child.on('close', resolve));
  const sup = { child, log, file, dir, exited, pid: child.pid };
  running.add(sup);
  // Stopping is part of every test: the master must exit 0 after SIGTERM, and neither it
  // nor a worker may have printed a sanitizer report (the suite also runs under ASan/UBSan).
  let stopping = null;
  // Waits for the exit (a test that sent its own signal) and checks it like stop().
  sup.finished = () => {
    stopping ??= (async () => {
      const result = await exitedWithin(child, exited, log);
      running.delete(sup);
      await outputClosed(child, closed, outputPipes);
      const reports = log.lines.filter((l) => SANITIZER_REPORT.test(l));
      if (reports.length) throw new Error(`sanitizer report:\n${log.lines.join('\n')}`);
      if (result.code !== 0) throw new Error(`supervisor exited with ${JSON.stringify(result)}:\n${log.lines.join('\n')}`);
      return result;
    })();
    return stopping;
  };
  sup.stop = () => {
    if (!stopping) child.kill('SIGTERM');
    return sup.finished();
  };
  // A signal the test means to send (SIGKILL of the master, say): its exit is no death.
  let expected = false;
  sup.kill = (signal) => {
    expected = true;
    child.kill(signal);
  };
  // Its last words: 'exit' can come before the rest of its output is read (a master that
  // died at once under wine was once reported with no line at all).
  const drained = exited.then(() => Promise.race([closed, new Promise((r) => setTimeout(r, 2000).unref())]));
  exited.then(async (r) => {
    // Exit code 0 only ever follows a stop the test asked for (SIGTERM, `supervisor stop`).
    if (expected || stopping || r.code === 0) return;
    await drained;
    const error = new Error(
      `the master died during the test (${describeExit(r)}, pid ${child.pid}); its last lines:\n` +
        log.lines.slice(-40).join('\n'),
    );
    deaths.push(error);
    log.fail(error);
  });
  const died = exited.then(async (r) => {
    await drained;
    throw new Error(`supervisor exited early (${JSON.stringify(r)}):\n${log.lines.join('\n')}`);
  });
  died.catch(() => {}); // only awaited while starting
  // The pid workers' parent reports: under wine, the supervisor's Windows pid.
  if (windows.enabled) {
    const start = await Promise.race([log.waitFor(/event=start pid=(\d+)|"event":"start","pid":(\d+)/), died]);
    sup.pid = Number(start[1] ?? start[2]);  // logfmt or log_format: json
  }
  for (let slot = 1; slot <= ready; slot++) {
    await Promise.race([log.waitFor(new RegExp(`event=ready app=\\S+ slot=${slot} `)), died]);
  }
  return sup;
}

// A master asked to stop has shutdown_timeout (30 s by default: config_schema.cpp) to end
// its workers gracefully, then ends them itself: one still running well past that is a
// hung master, killed here and reported with its last lines.
const STOP_TIMEOUT = 60000;
async function exitedWithin(child, exited, log) {
  let timer;
  const late = new Promise((resolve) => (timer = setTimeout(resolve, STOP_TIMEOUT, null)));
  const result = await Promise.race([exited, late]);
  clearTimeout(timer);
  if (result) return result;
  const where = threadsOf(child.pid);
  child.kill('SIGKILL');
  await exited;
  throw new Error(
    `the master did not exit within ${STOP_TIMEOUT} ms of being asked to stop; its threads (name: kernel wait):\n` +
      `${where}\nits last lines:\n${log.lines.slice(-60).join('\n')}`,
  );
}
// Where each thread of a process waits in the kernel, from /proc: "name: wchan" lines.
function threadsOf(pid) {
  try {
    return fs
      .readdirSync(`/proc/${pid}/task`)
      .map((tid) => {
        const read = (f) => fs.readFileSync(`/proc/${pid}/task/${tid}/${f}`, 'utf8').trim();
        return `  ${tid} ${read('comm')}: ${read('wchan')}`;
      })
      .join('\n');
  } catch (e) {
    return `  (cannot read /proc/${pid}/task: ${e.code})`;
  }
}

// The inode of a pipe we read: node's child stdio is a Unix socket pair ("socket:[123]").
function pipeInode(stream) {
  try {
    return fs.readlinkSync(`/proc/self/fd/${stream._handle.fd}`).match(/\d+/)[0];
  } catch {
    return null;
  }
}
// Processes holding the other end of the given socket pairs, from `ss -xp` (whose lines
// name each end's inode, its peer's, and the processes holding it): pid and command line.
function pipeHolders(inodes) {
  let table = '';
  try {
    table = execFileSync('ss', ['-xpn'], { encoding: 'utf8', timeout: 10000 });
  } catch {}
  const holders = [];
  for (const line of table.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (!inodes.includes(fields[7])) continue; // u_str ESTAB 0 0 * LOCAL * PEER users:(...)
    for (const [, pid] of line.matchAll(/pid=(\d+)/g)) {
      let command = '?';
      try {
        command = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
      } catch {} // gone meanwhile
      holders.push({ pid: Number(pid), command });
    }
  }
  return holders;
}
// After the master exits, its stdout and stderr must reach end of file: every process
// that could write to them was its own and ended with it. One that outlives it (a worker
// the master left behind) would also keep this test file's process from ever exiting, so
// it is named, killed, and the test fails.
const OUTPUT_CLOSE_MS = 10000;
async function outputClosed(child, closed, pipes) {
  let timer;
  const late = new Promise((resolve) => (timer = setTimeout(resolve, OUTPUT_CLOSE_MS, 'late')));
  const outcome = await Promise.race([closed, late]);
  clearTimeout(timer);
  if (outcome !== 'late') return;
  const holders = pipeHolders(pipes.filter(Boolean));
  // Linux pids, by kill(1): under wine, windows.js makes process.kill() speak Windows pids.
  // Not wine's own server, which every wine process holds its descriptors through.
  const strays = holders.filter((h) => !/wineserver/.test(h.command)).map((h) => String(h.pid));
  if (strays.length) spawnSync('kill', ['-KILL', ...strays]);
  child.stdout.destroy();
  child.stderr.destroy();
  throw new Error(
    `the master exited but its output stayed open ${OUTPUT_CLOSE_MS} ms later: processes it left behind hold it:\n` +
      (holders.map((h) => `  pid ${h.pid}: ${h.command}`).join('\n') || '  (none found)'),
  );
}

// Waits for `child` to exit, collecting its output: { code, stdout, stderr }. Killed and
// rejected after `timeout` ms. 'close', not 'exit': 'exit' can come before the last of its
// output is read (a failed `cache purge` under wine once reported exit 1 with no stderr).
function completion(child, what, timeout) {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`supervisor ${what} did not exit in ${timeout} ms; stderr:\n${stderr}`));
    }, timeout);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

// Runs the supervisor to completion (for config errors): { code, stdout, stderr }.
function runSupervisor(args, { timeout = TIMEOUT } = {}) {
  return completion(launch(args, { stdio: ['ignore', 'pipe', 'pipe'] }), args.join(' '), timeout);
}

// Runs `supervisor ARGS --config <its file>` against a running supervisor without
// blocking this process (a load it generates goes on meanwhile): { code, stdout, stderr }.
function cli(sup, args, { timeout = 60000 } = {}) {
  const argv = supervisorArgv([...args, '--config', sup.file]);
  return completion(spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] }), args.join(' '), timeout);
}

// One HTTP request on a fresh connection (no agent, so no reuse), optionally from a
// given loopback source address.
function request({ port, host = '127.0.0.1', path: p = '/', localAddress, method = 'GET', body, headers = {} }) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port, path: p, method, localAddress, agent: false, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }),
      );
    });
    req.setTimeout(TIMEOUT, () => req.destroy(new Error(`request to ${host}:${port}${p} timed out`)));
    req.on('error', reject);
    req.end(body);
  });
}

// A bounded load: `concurrency` loops, each sending requests one after another (keep-alive
// on one socket per loop, or a new connection per request), from the given source
// addresses in turn, until stop(), or `maxRequests` requests in all, or `maxMs`, or a
// master of this file died: it ends by itself even when the test failed first. stop()
// resolves with what happened to every request; `results.ended` says why it ended.
function load({
  port,
  concurrency = 8,
  keepAlive = false,
  localAddresses = ['127.0.0.1'],
  path: p = '/',
  maxRequests = 200000,
  maxMs = 120000,
}) {
  const results = { ok: 0, failed: 0, errors: [], byWorker: new Map(), ended: null };
  const deadline = Date.now() + maxMs;
  const end = (why) => {
    results.ended ??= why;
  };
  const agents = [];
  const loops = Array.from({ length: concurrency }, async (_, i) => {
    const localAddress = localAddresses[i % localAddresses.length];
    const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: 1 }) : false;
    if (agent) agents.push(agent);
    for (;;) {
      if (deaths.length) end('a master died');
      else if (results.ok + results.failed >= maxRequests) end(`maxRequests (${maxRequests})`);
      else if (Date.now() > deadline) end(`maxMs (${maxMs})`);
      if (results.ended) break;
      try {
        const res = await new Promise((resolve, reject) => {
          const req = http.get({ host: '127.0.0.1', port, path: p, localAddress, agent }, (r) => {
            const chunks = [];
            r.on('data', (c) => chunks.push(c));
            r.on('end', () => resolve({ status: r.statusCode, headers: r.headers, body: Buffer.concat(chunks).toString() }));
            r.on('error', reject);
          });
          req.setTimeout(TIMEOUT, () => req.destroy(new Error('timeout')));
          req.on('error', reject);
        });
        if (res.status === 200) {
          results.ok++;
          const w = res.headers['x-handoff-worker'];
          results.byWorker.set(w, (results.byWorker.get(w) || 0) + 1);
        } else {
          results.failed++;
          results.errors.push(`status ${res.status}`);
        }
      } catch (e) {
        results.failed++;
        results.errors.push(e.code || e.message);
      }
    }
  });
  return {
    results,
    async stop() {
      end('stopped');
      await Promise.all(loops);
      for (const a of agents) a.destroy();
      return results;
    },
  };
}

// Waits until `n` more requests have succeeded in a running load.
async function loadProgress(run, n, { timeout = TIMEOUT } = {}) {
  const target = run.results.ok + n;
  const deadline = Date.now() + timeout;
  while (run.results.ok < target) {
    checkMasters();
    if (run.results.ended) throw new Error(`load ended (${run.results.ended}) at ${run.results.ok} of ${target}`);
    if (Date.now() > deadline) throw new Error(`load stalled at ${run.results.ok} (errors: ${run.results.errors.slice(0, 5)})`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

// A loopback source address that ip_hash sends to `slot`, and the pid serving it now.
async function addressForSlot(port, slot) {
  for (let i = 2; i < 250; i++) {
    const localAddress = `127.0.0.${i}`;
    const w = workerOf(await request({ port, localAddress }));
    if (w.slot === slot) return { localAddress, pid: w.pid };
  }
  throw new Error(`no address reaches slot ${slot}`);
}

// "<app>/<slot>/<pid>" from the X-Handoff-Worker header.
function workerOf(response) {
  const [app, slot, pid] = String(response.headers['x-handoff-worker']).split('/');
  return { app, slot: Number(slot), pid: Number(pid) };
}

function openDescriptors(pid) {
  return fs.readdirSync(`/proc/${pid}/fd`).length;
}

// TCP connections (not listening sockets) a process holds, from its descriptors.
function tcpConnections(pid) {
  const inodes = new Set();
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    try {
      const m = fs.readlinkSync(`/proc/${pid}/fd/${fd}`).match(/^socket:\[(\d+)\]$/);
      if (m) inodes.add(m[1]);
    } catch {} // closed while we looked
  }
  let n = 0;
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!fs.existsSync(file)) continue;
    for (const line of fs.readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && inodes.has(f[9]) && f[3] !== '0A') n++;
    }
  }
  return n;
}

// Polls a condition that depends on other processes (descriptor counts settle after
// the ACK); fails with the last value after the timeout.
async function eventually(fn, { timeout = TIMEOUT, interval = 50 } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    checkMasters();
    last = await fn();
    if (last.ok) return last;
    if (Date.now() > deadline) return last;
    await new Promise((r) => setTimeout(r, interval));
  }
}

// Whether a process runs (a zombie waiting for its parent to reap it does not).
function alive(pid) {
  if (windows.enabled) return windows.alive(pid);
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

// Every process of the machine with its parent and its process group, from /proc.
function processTable() {
  const out = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [, ppid, pgid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.push({ pid: Number(entry), ppid: Number(ppid), pgid: Number(pgid) });
    } catch {} // gone while we looked
  }
  return out;
}

function parentPid(pid) {
  if (windows.enabled) return windows.parentPid(pid);
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

// The Node that runs Node workers: the one running this test file, so that one run of the
// suite proves one Node version (ctest runs it on each LTS line). Under wine the workers
// are Windows node.exe, found as `node` through WINEPATH (windows/test.sh).
const NODE = windows.enabled ? 'node' : process.execPath;
const HELLO_CPP = path.join(BIN, 'hello-cpp');
const HELLO_NODE = path.join(ROOT, 'examples/hello-node/server.js');
const PLAIN_NODE = path.join(ROOT, 'examples/hello-node/plain.js');

function config({ port, command, workers = 2, policy = 'round_robin', extra = '' }) {
  return `listeners:
  - address: 127.0.0.1:${port}
apps:
  - name: hello
    command: ${JSON.stringify(command)}
    workers: ${workers}
    policy: ${policy}
${extra}`;
}

// A config of several apps on one listener. `listener`: more keys of the listener, as
// lines indented under its `- address:`. Each app: name ('hello'), command, workers (2),
// policy (url_segment with slot numbers: /1/... reaches slot 1), extra (its own lines).
function appsConfig({ port, listener = '', apps }) {
  return `listeners:
  - address: 127.0.0.1:${port}
${listener}apps:
${apps
  .map(
    ({ name = 'hello', command, workers = 2, policy = '{url_segment: {index: 1, direct: true}}', extra = '' }) =>
      `  - name: ${name}
    command: ${JSON.stringify(command)}
    workers: ${workers}
    policy: ${policy}
${extra}`,
  )
  .join('')}`;
}

// Starts the supervisor on `yaml`, stopped when test `t` ends, and waits until every app
// of `ready` ({app: slots}) has that many slots ready.
async function startApps(t, yaml, ready) {
  const sup = await startSupervisor(yaml);
  t.after(() => sup.stop());
  for (const [app, slots] of Object.entries(ready))
    for (let slot = 1; slot <= slots; slot++) await sup.log.waitFor(new RegExp(`event=ready app=${app} slot=${slot} `));
  return sup;
}

module.exports = {
  LineWatcher,
  WINDOWS: windows.enabled,
  checkMasters,
  pluginFile,
  ROOT,
  BIN,
  SUPERVISOR,
  supervisorArgv,
  NODE,
  HELLO_CPP,
  HELLO_NODE,
  PLAIN_NODE,
  TIMEOUT,
  freePort,
  tempDir,
  startSupervisor,
  runSupervisor,
  cli,
  request,
  workerOf,
  openDescriptors,
  tcpConnections,
  eventually,
  parentPid,
  alive,
  processTable,
  config,
  appsConfig,
  startApps,
  load,
  loadProgress,
  addressForSlot,
};
