'use strict';
// A killed worker comes back in the same slot; connections meanwhile wait for it.
const test = require('node:test');
const assert = require('node:assert');
const h = require('./helpers');

for (const [kind, command] of [
  ['C++', [h.HELLO_CPP]],
  ['Node', [h.NODE, h.HELLO_NODE]],
]) {
  test(`SIGKILL a ${kind} worker: it returns in its slot and the next connections are served`, async (t) => {
    const port = await h.freePort();
    const sup = await h.startSupervisor(h.config({ port, command, workers: 2, policy: 'ip_hash' }), { ready: 2 });
    t.after(() => sup.stop());

    // A client address whose home is slot 2, and the worker there.
    const { localAddress, pid: victim } = await h.addressForSlot(port, 2);
    const mark = sup.log.mark();
    process.kill(victim, 'SIGKILL');
    await sup.log.waitFor(new RegExp(`event=exit app=hello slot=2 pid=${victim} generation=1 status="killed by signal 9"`), { from: mark });

    // Sent while slot 2 may still be down: they wait in its queue, then reach the new worker.
    const responses = await Promise.all(Array.from({ length: 5 }, () => h.request({ port, localAddress })));
    const [, newPid] = await sup.log.waitFor(/event=ready app=hello slot=2 pid=(\d+) generation=2 /, { from: mark });
    for (const res of responses) {
      assert.strictEqual(res.status, 200);
      assert.deepStrictEqual(h.workerOf(res), { app: 'hello', slot: 2, pid: Number(newPid) });
    }
    assert.notStrictEqual(Number(newPid), victim);
    // The other slot was never disturbed.
    assert.ok(!sup.log.lines.slice(mark).some((l) => /event=(spawn|exit|start_failure) app=hello slot=1 /.test(l)));
    assert.strictEqual((await h.request({ port })).status, 200);
  });
}

test('a worker that keeps failing never takes the master or other apps down', async (t) => {
  const [port, otherPort] = [await h.freePort(), await h.freePort()];
  const yaml = `listeners:
  - address: 127.0.0.1:${port}
    name: main
  - address: 127.0.0.1:${otherPort}
    name: other
apps:
  - name: good
    command: ${JSON.stringify([h.HELLO_CPP])}
    listeners: [main]
  - name: bad
    command: ["sh", "-c", "exit 3"]
    listeners: [other]
`;
  const sup = await h.startSupervisor(yaml);
  t.after(() => sup.stop());
  await sup.log.waitFor(/event=ready app=good slot=1 /);
  // It crashes, is started again in the same slot, crashes again...
  await sup.log.waitFor(/event=spawn app=bad slot=1 pid=\d+ generation=3 /);
  assert.ok(sup.log.lines.filter((l) => /event=start_failure app=bad slot=1 pid=\d+ generation=\d+ status="exit code 3"/.test(l)).length >= 2);
  const res = await h.request({ port });
  assert.strictEqual(res.status, 200);
  assert.strictEqual(sup.child.exitCode, null, 'the master is still running');
});
