'use strict';
// The integration suite against the Windows build (build-windows/bin/*.exe) under wine64,
// with the same test files and Linux-side clients. windows/test.sh loads this module first
// (NODE_OPTIONS=--require) with HANDOFF_TARGET=windows; helpers.js asks it how to start
// and signal the supervisor. It translates what a test says into Windows terms:
//   - programs run through windows/wine-run.sh (wine64, the build tree's prefix);
//   - SIGTERM/SIGINT to the supervisor become Ctrl+C (wine turns SIGINT into a console
//     control event; a real SIGTERM would kill wine at once), SIGHUP becomes
//     `supervisor.exe reload --config FILE` (its control socket is a named pipe there);
//   - pids in X-Handoff-Worker are Windows pids: parentPid asks wine (wmic), and
//     process.kill(pid, 'SIGKILL') becomes `taskkill /f /pid` (TerminateProcess). A
//     Windows pid must never reach the Linux kill(2): it would name another process.
// Tests that cannot run there are listed once, below, each with its reason; they are
// reported as skipped by node --test and listed again at the end of windows/test.sh.
const { spawn, execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const Module = require('node:module');

const ROOT = process.env.HANDOFF_SOURCE_DIR || path.resolve(__dirname, '../..');
const WINE_RUN = path.join(ROOT, 'windows/wine-run.sh');
const enabled = process.env.HANDOFF_TARGET === 'windows';

const UNIX_SIGNALS = 'stops a worker with SIGSTOP (Windows has no way to freeze a process from outside)';
const KILLED_BY_SIGNAL = 'expects status "killed by signal 9"; TerminateProcess (taskkill /f) gives "exit code 1"';
const PROC_FS = 'reads /proc/PID/fd, which has no Windows equivalent for a wine process';
const SH = 'its worker command is `sh -c ...`, a Unix shell';
const KERNEL_DISPATCH = 'kernel dispatch needs SO_REUSEPORT groups (Linux); on Windows `dispatch: kernel` is a config error';
const CAPABILITIES = 'Linux capabilities (setpriv, /proc/PID/status) and workers as another user do not exist there';

// Test name (exactly as the test file spells it) -> why it does not run on Windows.
const SKIPS = {
  'capabilities instead of root: a privileged port, workers as their user, no capability passed on': CAPABILITIES,
  'user: with capabilities instead of root, the master gives them up when it becomes that user': CAPABILITIES,
  "after 1,000 connections the master's descriptor count is back where it started": PROC_FS,
  'a C++ worker holds only stdio, its channel and its own sockets': PROC_FS,
  'a Node worker holds only stdio, its channel and its own sockets': PROC_FS,
  'SIGKILL a C++ worker: it returns in its slot and the next connections are served': KILLED_BY_SIGNAL,
  'SIGKILL a Node worker: it returns in its slot and the next connections are served': KILLED_BY_SIGNAL,
  'SIGKILL one of 4 workers under load: only requests it had accepted may fail': UNIX_SIGNALS,
  'a worker stopped with SIGSTOP is replaced after the heartbeat timeout': UNIX_SIGNALS,
  'SIGTERM with a slow request in flight (C++, master dispatch): it completes, new connections are refused, exit 0': PROC_FS,
  'SIGTERM with a slow request in flight (Node, master dispatch): it completes, new connections are refused, exit 0': PROC_FS,
  'SIGTERM with a slow request in flight (C++, kernel dispatch): it completes, new connections are refused, exit 0': KERNEL_DISPATCH,
  'SIGTERM with a slow request in flight (Node, kernel dispatch): it completes, new connections are refused, exit 0': KERNEL_DISPATCH,
  'a second SIGTERM stops at once, without waiting for requests in flight': PROC_FS,
  'a worker that keeps failing never takes the master or other apps down': SH,
  'a worker that exits at once: delays grow to max_delay, crash_loop, others keep serving': SH,
  'a reload to a command that cannot start leaves the old workers serving': SH,
  'configs/chat.yaml passes check': "the shipped config names the Linux build's plugin, build/lib/libchat_affinity.so",
  'user: workers run as the configured user': 'Windows has no worker users (the config check says so)',
  'the control socket is 0600 and refuses another user':
    'a Unix file mode and a second uid (setpriv); the Windows DACLs are checked by "admit only the supervisor\'s user"',
  'a master killed with SIGKILL starts again: the stale scoreboard and socket are replaced':
    'checks the socket file and /dev/shm entry a killed master leaves; a named pipe and a section end with their last handle, nothing is left to replace',
  'systemd: READY=1 once min_ready, RELOADING=1/READY=1 around a reload, STOPPING=1, WATCHDOG=1':
    'systemd\'s notify protocol (NOTIFY_SOCKET, a Unix datagram socket read by socat) does not exist on Windows',
  'systemd socket activation: listeners come from LISTEN_FDS': 'systemd socket activation (LISTEN_FDS) does not exist on Windows',
  'a plain Node worker without the SDK keeps the connection: every request goes to the first slot':
    'L7 rules read the head there (no MSG_PEEK + SO_RCVLOWAT) and carry it in conn.head, which only the SDKs replay: a worker without the SDK cannot serve L7 routes on Windows',
  'a program without the SDK (ready: on_spawn): concurrent misses for a key are not held for lock_timeout':
    'the cache reads the head there and carries it in conn.head, which only the SDKs replay: a worker without the SDK cannot serve an app with a cache on Windows',
};

// Tests whose names carry a number from the environment, by pattern -> why.
SKIPS['log_file: logrotate renames it and sends SIGUSR1, the master writes a new one'] =
  'Windows has no SIGUSR1 (log_file is rotated by size only there)';
SKIPS['a follower that does not read never holds the master: lines beyond 1 MiB are dropped and counted'] =
  "connects to the control socket as a Unix socket; on Windows it is a named pipe the Linux side cannot open";

SKIPS["hello-cpp: a keep-alive connection the cache answered closes quietly after the app's keep_alive_timeout"] =
  "the master reads heads there, so a connection the cache answered idles in the listener's intake until head_timeout (docs/cache.md), not keep_alive_timeout";

const SKIP_PATTERNS = [
  [/^thousands of idle keep-alive sockets on a /, 'raises the descriptor limit with prlimit and reads memory and descriptors in /proc'],
];
SKIPS['a client that pipelines and does not read is held back: the worker stays small, then every response comes'] =
  "reads the worker's peak memory (VmHWM) in /proc";

// Whole files that do not run on Windows yet, with their reason (listed at the end too).
const SKIP_FILES = {
  'faults.test.js':
    "its misbehaving worker speaks the channel with raw POSIX calls (sendmsg, SCM_RIGHTS), and process groups and the worker guard are POSIX; on Windows the master's job object kills the workers with it",
  'kernel-dispatch.test.js': KERNEL_DISPATCH,
  'kernel-observe.test.js': KERNEL_DISPATCH,
  'kernel-ip-hash.test.js': KERNEL_DISPATCH,
  'l7-carried.test.js': 'Windows always classifies by reading and carrying the head: l7.test.js is that run there',
  'node-apps.test.js':
    "its workers run on the test runner's own Linux node (process.execPath), through npm, sh and taskset, and it reads /proc; the Windows build finds no listening sockets of a worker (a stub)",
};

function skipReason(name) {
  return SKIPS[name] ?? SKIP_PATTERNS.find(([pattern]) => pattern.test(name))?.[1];
}

// node:test's test(), with the skip list applied by name (or by file).
function installSkips() {
  const realLoad = Module._load;
  let wrapped = null;
  Module._load = function load(request, ...rest) {
    const loaded = realLoad.call(this, request, ...rest);
    if (request !== 'node:test' && request !== 'test') return loaded;
    if (!wrapped) {
      const fileReason = SKIP_FILES[require('node:path').basename(rest[0]?.filename ?? '')];
      wrapped = function test(name, options, fn) {
        const reason = fileReason ?? (typeof name === 'string' ? skipReason(name) : undefined);
        if (reason === undefined) return loaded(name, options, fn);
        if (typeof options === 'function') return loaded(name, { skip: `Windows: ${reason}` }, options);
        return loaded(name, { ...options, skip: `Windows: ${reason}` }, fn);
      };
      Object.assign(wrapped, loaded);
      wrapped.test = wrapped;
    }
    return wrapped;
  };
}

// process.kill() as tests use it on worker pids (which are Windows pids here).
function installKill() {
  const realKill = process.kill.bind(process);
  process.kill = (pid, signal = 'SIGTERM') => {
    if (pid === process.pid || linuxChildren.has(pid)) return realKill(pid, signal);
    if (signal !== 'SIGKILL') throw new Error(`Windows: cannot send ${signal} to Windows process ${pid}`);
    runQuiet(['taskkill', '/f', '/pid', String(pid)]);
    return true;
  };
}

const linuxChildren = new Set();

// Starts the supervisor under wine; returns the ChildProcess, whose kill() speaks Windows.
function spawnSupervisor(exe, args, options) {
  const child = spawn(WINE_RUN, [exe, ...args], options);
  linuxChildren.add(child.pid);
  const config = args[0] === '--config' ? args[1] : undefined;
  const kill = child.kill.bind(child);
  child.kill = (signal = 'SIGTERM') => {
    if (signal === 'SIGTERM' || signal === 'SIGINT') return kill('SIGINT');
    if (signal === 'SIGHUP' && config) {
      // The control socket (a named pipe there) stands in for SIGHUP, which does not
      // wait for the roll either.
      runQuiet([exe, 'reload', '--no-wait', '--config', config]);
      return true;
    }
    return kill(signal);
  };
  return child;
}

// argv that runs `supervisor.exe ARGS` under wine, for spawnSync/spawn by tests that run
// the command-line client (status, scale, stop...).
function supervisorArgv(exe, args) {
  return [WINE_RUN, exe, ...args];
}

// Runs a Windows program to completion with its output in a file (a wine service it
// starts must not inherit a pipe of ours); returns that output. Throws, with the output,
// when it fails.
function runQuiet(argv) {
  const file = path.join(os.tmpdir(), `handoff-wine-${process.pid}-${Date.now()}.out`);
  const fd = fs.openSync(file, 'w');
  let failure = null;
  try {
    execFileSync('timeout', ['60', WINE_RUN, ...argv], { stdio: ['ignore', fd, fd] });
  } catch (e) {
    failure = e;
  } finally {
    fs.closeSync(fd);
  }
  const bytes = fs.readFileSync(file);
  fs.unlinkSync(file);
  // wmic writes UTF-16LE after a byte order mark
  const out = bytes[0] === 0xff && bytes[1] === 0xfe ? bytes.subarray(2).toString('utf16le') : bytes.toString();
  if (failure) throw new Error(`Windows: ${argv.join(' ')} failed (${failure.message}): ${out}`);
  return out;
}

// The Windows pid of a Windows process's parent.
function parentPid(pid) {
  const out = runQuiet(['wmic', 'process', 'get', 'ProcessId,ParentProcessId']);
  for (const line of out.split(/\r?\n/)) {
    const [parent, self] = line.trim().split(/\s+/).map(Number);
    if (self === pid) return parent;
  }
  throw new Error(`no Windows process ${pid}`);
}

// Whether a Windows process runs.
function alive(pid) {
  const out = runQuiet(['wmic', 'process', 'get', 'ProcessId']);
  return out.split(/\r?\n/).some((line) => Number(line.trim()) === pid);
}

module.exports = { enabled, SKIPS, SKIP_FILES, spawnSupervisor, supervisorArgv, parentPid, alive };

if (enabled && require.main !== module) {
  installSkips();
  installKill();
}
if (require.main === module) {
  // `node tests/integration/windows.js`: the skip list, for the end of the run.
  console.log(`Integration tests skipped on Windows (${Object.keys(SKIPS).length + SKIP_PATTERNS.length}):`);
  for (const [name, reason] of Object.entries(SKIPS)) console.log(`  - ${name}\n      ${reason}`);
  for (const [pattern, reason] of SKIP_PATTERNS) console.log(`  - ${pattern}\n      ${reason}`);
  console.log(`Integration test files skipped on Windows (${Object.keys(SKIP_FILES).length}):`);
  for (const [file, reason] of Object.entries(SKIP_FILES)) console.log(`  - ${file}\n      ${reason}`);
}
