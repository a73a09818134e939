'use strict';
// The control endpoint (--control): `supervisor control NAME reload|stop`, the way to
// reload on Windows (no SIGHUP there) and a scriptable one everywhere. A Unix socket on
// Linux, a named pipe on Windows.
const test = require('node:test');
const assert = require('node:assert');
const path = require('node:path');
const h = require('./helpers');

test('control endpoint: reload rolls the workers, stop drains and exits 0', async (t) => {
  const port = await h.freePort();
  const dir = h.tempDir();
  const endpoint = h.WINDOWS ? `\\\\.\\pipe\\handoff-control-test-${process.pid}` : path.join(dir, 'control.sock');
  const sup = await h.startSupervisor(h.config({ port, command: [h.HELLO_CPP], workers: 1 }), {
    ready: 1,
    args: ['--control', endpoint],
  });
  t.after(() => sup.stop());
  await sup.log.waitFor(/event=control endpoint=/);

  const bad = await h.runSupervisor(['control', endpoint, 'explode']);
  assert.notStrictEqual(bad.code, 0, 'an unknown command is refused');

  const mark = sup.log.mark();
  const reload = await h.runSupervisor(['control', endpoint, 'reload']);
  assert.strictEqual(reload.code, 0, reload.stderr);
  assert.match(reload.stdout, /^ok/);
  await sup.log.waitFor(/event=reload /, { from: mark });

  const stop = await h.runSupervisor(['control', endpoint, 'stop']);
  assert.strictEqual(stop.code, 0, stop.stderr);
  await sup.log.waitFor(/event=shutdown /, { from: mark });
  const { code } = await sup.finished();
  assert.strictEqual(code, 0);
});
