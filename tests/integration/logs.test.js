'use strict';
// The supervisor's log (README "Logs"): every line timestamped, in logfmt or JSON, a
// worker's lines tagged and, in JSON, a worker's own JSON line kept as an object;
// `log_file` rotated by size and reopened on SIGUSR1; `supervisor logs [APP] [--follow]`.
// The worker is tests/apps/logging-app.js (it prints what it is asked to, and pino lines).

const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const net = require('node:net');
const path = require('node:path');
const { spawn } = require('node:child_process');
const h = require('./helpers');

const APP = path.join(h.ROOT, 'tests/apps/logging-app.js');

// A strict logfmt reader (the grammar of go-logfmt's decoder): key=value pairs separated
// by blanks; a value is bare (no blank, '=' or '"') or quoted with \" \\ \n \r \t \uXXXX.
// Throws on anything else, so a line that is not logfmt fails the test that reads it.
function parseLogfmt(line) {
  const out = {};
  const re = /\s*([^\s="]+)=(?:"((?:[^"\\]|\\["\\nrt]|\\u[0-9a-fA-F]{4})*)"|([^\s="]*))(?=\s|$)/y;
  let m;
  while (re.lastIndex < line.length && (m = re.exec(line))) {
    out[m[1]] =
      m[2] === undefined
        ? m[3]
        : m[2].replace(/\\(u[0-9a-fA-F]{4}|.)/g, (_, e) =>
            e[0] === 'u' ? String.fromCharCode(parseInt(e.slice(1), 16)) : { n: '\n', r: '\r', t: '\t' }[e] ?? e,
          );
  }
  if (re.lastIndex !== line.length || !m) throw new Error(`not logfmt: ${line}`);
  return out;
}

function supervisor(args) {
  return h.runSupervisor(args);
}

async function say(port, text) {
  const r = await h.request({ port, path: `/say?text=${encodeURIComponent(text)}` });
  assert.strictEqual(r.status, 200);
}

// `supervisor logs ARGS` running, its stdout watched line by line.
function follow(t, args) {
  const argv = h.supervisorArgv(['logs', ...args]);
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
  const out = new h.LineWatcher();
  out.attach(child.stdout);
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr })));
  t.after(() => child.kill());
  return { child, out, exited };
}

test('logfmt: every line timestamped; log_file rotated by size; supervisor logs [--follow]', async (t) => {
  const port = await h.freePort();
  const dir = h.tempDir();
  const file = path.join(dir, 'handoff.log');
  const sup = await h.startSupervisor(
    h.config({ port, command: [h.NODE, APP], workers: 1, extra: `log_file: ${file}\nlog_max_size: 8KiB\nlog_keep: 2\n` }),
    { ready: 1 },
  );
  t.after(() => sup.stop());

  // A worker line: the same shape as an event, read back exactly by a logfmt reader.
  const text = 'GET /a?b=1 200 "curl" \\ 3ms';
  await say(port, text);
  const [line] = await sup.log.waitFor(/^ts=.* event=output app=hello .* line=.*curl.*$/);
  const fields = parseLogfmt(line);
  assert.match(fields.ts, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  assert.deepStrictEqual({ ...fields, ts: 'T', pid: 'P' }, { ts: 'T', event: 'output', app: 'hello', slot: '1', pid: 'P', stream: 'stdout', line: text });
  // Every line of the log is logfmt and starts with its timestamp and event.
  for (const l of sup.log.lines) assert.ok(/^ts=\S+ event=\S+/.test(l) && parseLogfmt(l), l);
  // The file has the same lines.
  assert.ok(fs.readFileSync(file, 'utf8').includes(line));

  // `supervisor logs hello -n 2`: the last two lines of hello, from the file.
  await say(port, 'second line');
  await sup.log.waitFor(/line="second line"/);
  const last = await supervisor(['logs', 'hello', '-n', '2', '--config', sup.file]);
  assert.strictEqual(last.code, 0, last.stderr);
  const shown = last.stdout.trim().split('\n');
  assert.strictEqual(shown.length, 2, last.stdout);
  assert.ok(shown.every((l) => parseLogfmt(l).app === 'hello'));
  assert.match(shown[1], /line="second line"$/);

  // --follow: the tail, then new lines of that app as the worker writes them.
  const live = follow(t, ['hello', '--follow', '-n', '1', '--config', sup.file]);
  await live.out.waitFor(/line="second line"$/); // the tail: it is subscribed by now
  await say(port, 'seen live');
  await live.out.waitFor(/event=output app=hello slot=1 pid=\d+ stream=stdout line="seen live"$/);
  assert.ok(!live.out.lines.some((l) => parseLogfmt(l).app !== 'hello'), 'only hello lines');
  live.child.kill(); // a follower that hangs up is forgotten; the master goes on
  await live.exited;

  // Size rotation: past 8 KiB, handoff.log -> .1 -> .2; never a .3 (log_keep: 2).
  const big = 'x'.repeat(2000);
  for (let i = 0; i < 14; i++) await say(port, `${i} ${big}`);
  await sup.log.waitFor(/line="13 x+"$/);
  const sizes = ['', '.1', '.2', '.3'].map((s) => (fs.existsSync(file + s) ? fs.statSync(file + s).size : null));
  assert.ok(sizes[1] !== null && sizes[2] !== null && sizes[3] === null, `files: ${sizes}`);
  for (const s of sizes.slice(0, 3)) assert.ok(s <= 8192, `each file within log_max_size: ${sizes}`);
  assert.match(fs.readFileSync(file, 'utf8'), /line="13 x+"\n$/);
});

test('log_file: logrotate renames it and sends SIGUSR1, the master writes a new one', async (t) => {
  const port = await h.freePort();
  const file = path.join(h.tempDir(), 'handoff.log');
  const sup = await h.startSupervisor(
    h.config({ port, command: [h.NODE, APP], workers: 1, extra: `log_file: ${file}\nlog_max_size: 0\n` }),
    { ready: 1 },
  );
  t.after(() => sup.stop());
  fs.renameSync(file, `${file}.old`);
  process.kill(sup.child.pid, 'SIGUSR1');
  await sup.log.waitFor(/event=log_reopened path=\S+handoff\.log$/);
  await say(port, 'after reopen');
  await sup.log.waitFor(/line="after reopen"/);
  assert.match(fs.readFileSync(file, 'utf8'), /line="after reopen"/);
  const old = fs.readFileSync(`${file}.old`, 'utf8');
  assert.match(old, /event=ready app=hello slot=1 /);
  assert.doesNotMatch(old, /after reopen/);
});

test('a follower that does not read never holds the master: lines beyond 1 MiB are dropped and counted', async (t) => {
  const port = await h.freePort();
  const sup = await h.startSupervisor(h.config({ port, command: [h.NODE, APP], workers: 1 }), { ready: 1 });
  t.after(() => sup.stop());
  // No log_file: `logs` without --follow has nothing to read, and says so.
  const none = await supervisor(['logs', '--config', sup.file]);
  assert.strictEqual(none.code, 1);
  assert.match(none.stderr, /no log_file/);

  const socket = net.connect(path.join(sup.dir, 'cluster.sock'));
  t.after(() => socket.destroy());
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (d) => (received += d));
  socket.write('{"cmd":"logs","app":"hello","follow":true}\n');
  await h.eventually(() => ({ ok: received.startsWith('{"ok":true') }));
  socket.pause(); // reads nothing more
  // 4 MB of worker lines through the master while the follower sleeps: all of it still
  // reaches stderr, and the master answers meanwhile.
  const spam = h.request({ port, path: '/spam?lines=2000&size=2000' });
  assert.strictEqual((await h.request({ port, path: '/say?text=alive' })).status, 200);
  assert.strictEqual((await spam).status, 200);
  await sup.log.waitFor(/line="1999 s+"$/);
  socket.resume();
  const dropped = await h.eventually(() => {
    const m = received.match(/event=log_dropped lines=(\d+) /);
    return { ok: m !== null, m };
  });
  assert.ok(dropped.ok, 'the follower is told how many lines it lost');
  assert.ok(Number(dropped.m[1]) > 0);
  await say(port, 'after the drop');
  const after = await h.eventually(() => ({ ok: received.includes('line="after the drop"') }));
  assert.ok(after.ok, 'and it follows again');
});

test('JSON: numbers are numbers, a pino line from a worker is an object, not a string', async (t) => {
  const port = await h.freePort();
  const sup = await h.startSupervisor(h.config({ port, command: [h.NODE, APP], workers: 1, extra: 'log_format: json\n' }));
  t.after(() => sup.stop());
  await sup.log.waitFor(/"event":"ready","app":"hello","slot":1,"pid":\d+/);
  assert.strictEqual((await h.request({ port, path: '/pino?msg=request%20completed' })).status, 200);
  const [line] = await sup.log.waitFor(/^\{.*"event":"output".*"msg":"request completed".*\}$/);
  const o = JSON.parse(line);
  assert.strictEqual(o.app, 'hello');
  assert.strictEqual(o.slot, 1);
  assert.ok(Number.isInteger(o.pid));
  assert.strictEqual(o.stream, 'stdout');
  assert.strictEqual(o.line, undefined);
  assert.strictEqual(o.json.level, 30);
  assert.strictEqual(o.json.msg, 'request completed');
  assert.strictEqual(o.json.res.statusCode, 200);
  assert.strictEqual(o.json.pid, o.pid, "pino's own pid, the worker's");
  // A plain line stays a string under `line`, and every line of the log is one JSON object.
  await say(port, 'plain {not json}');
  const [plain] = await sup.log.waitFor(/^\{.*"line":"plain \{not json\}"\}$/);
  assert.strictEqual(JSON.parse(plain).json, undefined);
  for (const l of sup.log.lines) {
    const e = JSON.parse(l);
    assert.ok(typeof e.ts === 'string' && typeof e.event === 'string', l);
    if ('slot' in e) assert.strictEqual(typeof e.slot, 'number', l);
    if ('pid' in e) assert.strictEqual(typeof e.pid, 'number', l);
  }
});
