'use strict';
// Several hosts (make test-multihost; docs/deploy.md): HAProxy hashes the room to one of 3
// hosts, each host's supervisor hashes it to one of its slots. Runs inside the client
// namespace hmh-cl of tests/multihost/topology.sh (run.sh sets it up, starts HAProxy in
// hmh-lb and removes everything afterwards); it starts the 3 supervisors itself, each in
// its host's namespace with the same config (handoff.yaml), and kills, restarts and
// reloads them. Real supervisors, real Node chat workers (examples/chat), real HAProxy.
const test = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const h = require('../integration/helpers');

const { joinRoom } = require('../integration/chat-member');

const LB = '10.201.0.10';
const CLIENT = '10.201.0.20';
// haproxy (PROXY protocol v2 to the hosts) or nginx (none: its http proxy cannot send one).
const BALANCER = process.env.MULTIHOST_LB || 'haproxy';
const PROXY_PROTOCOL = BALANCER === 'haproxy';
const HOSTS = ['h1', 'h2', 'h3'].map((name, i) => ({ name, ns: `hmh-${name}`, address: `10.201.0.${11 + i}` }));
const ROOMS = Array.from({ length: 30 }, (_, i) => `room-${i}`);
const CHAT = path.join(h.ROOT, 'examples/chat/server.js');
const dir = h.tempDir();

// One host's config: tests/multihost/handoff.yaml with this machine's paths, in a directory
// of the host's own (its control socket goes next to it).
function configFile(host) {
  const text = fs
    .readFileSync(path.join(__dirname, 'handoff.yaml'), 'utf8')
    .replace('[NODE, CHAT]', JSON.stringify([h.NODE, CHAT]))
    .replace('proxy_protocol: true', `proxy_protocol: ${PROXY_PROTOCOL}`);
  fs.mkdirSync(path.join(dir, host.name), { recursive: true });
  const file = path.join(dir, host.name, 'handoff.yaml');
  fs.writeFileSync(file, text);
  return file;
}

async function readyz(host) {
  try {
    return (await h.request({ host: host.address, port: 8081, path: '/readyz' })).status;
  } catch {
    return 0;
  }
}

async function startHost(host) {
  host.file ??= configFile(host);
  const log = fs.openSync(path.join(dir, `${host.name}.log`), 'a');
  host.process = spawn('ip', ['netns', 'exec', host.ns, h.SUPERVISOR, '--config', host.file], {
    stdio: ['ignore', log, log],
  });
  fs.closeSync(log);  // the supervisor has its own copy
  host.exited = new Promise((resolve) => host.process.on('exit', (code, signal) => resolve({ code, signal })));
  const up = await h.eventually(async () => ({ ok: (await readyz(host)) === 200 }));
  assert.ok(up.ok, `${host.name}: /readyz never answered 200 (log: ${path.join(dir, `${host.name}.log`)})`);
}

// `ip netns exec` runs the supervisor in its own process: the pid is the master's.
const masterPid = (host) => host.process.pid;
// Its chat workers (the master has other children: its worker guard).
const workersOf = (host) =>
  spawnSync('ps', ['-o', 'pid=,args=', '--ppid', String(masterPid(host))], { encoding: 'utf8' })
    .stdout.split('\n')
    .filter((line) => line.includes(CHAT))
    .map((line) => Number(line.trim().split(' ')[0]));

async function stopHost(host) {
  if (!host.process || host.process.exitCode !== null || host.process.signalCode !== null) return;
  host.process.kill('SIGTERM');
  await host.exited;
}

// A room's info through HAProxy: the worker (pid), the host it runs on, the client address
// the worker saw.
async function roomInfo(room) {
  const r = await h.request({ host: LB, port: 80, path: `/chat/${room}/info` });
  if (r.status !== 200) throw new Error(`${room}: status ${r.status} ${r.body}`);
  const body = JSON.parse(r.body);
  const ppid = h.parentPid(body.pid);
  const host = HOSTS.find((x) => x.process && masterPid(x) === ppid);
  return { ...body, host: host?.name };
}

async function placement(rooms = ROOMS) {
  const where = new Map();
  for (const room of rooms) where.set(room, await roomInfo(room));
  return where;
}

// placement() once every room answers (HAProxy's checks take a host in or out within
// `fall`/`rise` × `inter`); `until(where)` says whether it is the one waited for.
async function placementWhen(until) {
  const last = await h.eventually(async () => {
    try {
      const where = await placement();
      return { ok: until(where), where };
    } catch (e) {
      return { ok: false, error: e.message };
    }
  });
  return last;
}

// A member of a room through the load balancer (tests/integration/chat-member.js).
const join = (room) => joinRoom(`ws://${LB}/chat/${room}`);

// Two members of `room` meet: the second's message reaches the first, from one process.
async function meet(room) {
  const a = await join(room);
  const b = await join(room);
  assert.strictEqual(a.welcome.pid, b.welcome.pid, `${room}: both members in one process`);
  b.ws.send(`hello from b in ${room}`);
  const got = await a.next();
  assert.deepStrictEqual([got.type, got.text, got.pid], ['message', `hello from b in ${room}`, a.welcome.pid]);
  return [a, b];
}

test.before(async () => {
  for (const host of HOSTS) await startHost(host);
  // HAProxy marks each host up after 2 good checks (inter 200ms): until then a room may
  // land elsewhere. Wait until every host serves some room.
  const hostsOf = (where) => new Set([...where.values()].map((x) => x.host));
  const all = await placementWhen((where) => hostsOf(where).size === HOSTS.length);
  assert.ok(all.ok, `rooms reach every host through HAProxy (${all.error ?? [...hostsOf(all.where)]})`);
});

test.after(async () => {
  for (const host of HOSTS) await stopHost(host);
});

test(`${BALANCER}: a room always meets in one process across hosts; the address the worker sees`, async () => {
  const first = await placement();
  const second = await placement();
  // With PROXY protocol v2 (HAProxy) the client's; with nginx, nginx's own.
  const seen = PROXY_PROTOCOL ? CLIENT : LB;
  for (const room of ROOMS) {
    assert.strictEqual(second.get(room).pid, first.get(room).pid, `${room}: the same worker each time`);
    assert.strictEqual(first.get(room).client, seen, `${room}: the address the worker sees`);
  }
  const [a, b] = await meet('lobby');
  a.ws.close();
  b.ws.close();
});

test(`${BALANCER}: a host killed: only its rooms move, their members meet again; back, its rooms return`, async (t) => {
  const before = await placement();
  const victim = HOSTS[1];
  const moved = ROOMS.filter((r) => before.get(r).host === victim.name);
  const stayed = ROOMS.filter((r) => before.get(r).host !== victim.name);
  assert.ok(moved.length > 0 && stayed.length > 0, `rooms on ${victim.name} and elsewhere`);
  // Two members of one of its rooms, connected when it dies.
  const members = await meet(moved[0]);
  const workers = workersOf(victim);
  assert.ok(workers.length > 0);
  victim.process.kill('SIGKILL');
  await victim.exited;
  // Its workers go with it (the worker guard).
  const gone = await h.eventually(async () => ({ ok: workers.every((pid) => !h.alive(pid)) }));
  assert.ok(gone.ok, `${victim.name}'s workers ${workers} ended with their master`);
  for (const m of members) await m.closed;
  // HAProxy's check takes it out; its rooms land on the other hosts.
  const after = await placementWhen(() => true);
  assert.ok(after.ok, `every room answered again after the kill: ${after.error}`);
  for (const room of stayed) assert.strictEqual(after.where.get(room).pid, before.get(room).pid, `${room} did not move`);
  for (const room of moved) assert.notStrictEqual(after.where.get(room).host, victim.name, `${room} moved`);
  t.diagnostic(`${moved.length} of ${ROOMS.length} rooms moved with ${victim.name}, ${stayed.length} stayed`);
  // The members reconnect and meet again, on the room's new host.
  const again = await meet(moved[0]);
  for (const m of again) m.ws.close();
  // Back: its rooms return to it, the others stay where they were.
  await startHost(victim);
  const back = await placementWhen((where) => moved.every((r) => where.get(r).host === victim.name));
  assert.ok(back.ok, `${victim.name}'s rooms returned to it (${back.error ?? ''})`);
  for (const room of stayed) assert.strictEqual(back.where.get(room).pid, before.get(room).pid, `${room} stayed`);
});

test(`${BALANCER}: a rolling upgrade across the hosts under load, one host at a time: no request fails`, async (t) => {
  let stop = false;
  let done = 0;
  const failures = [];
  const deadline = Date.now() + 120000;
  const client = async (n) => {
    for (let i = 0; !stop && i < 20000 && Date.now() < deadline; i++) {
      const room = ROOMS[(n * 7 + i) % ROOMS.length];
      try {
        const r = await h.request({ host: LB, port: 80, path: `/chat/${room}/info` });
        if (r.status !== 200 || JSON.parse(r.body).room !== room) throw new Error(`status ${r.status} ${r.body}`);
        done++;
      } catch (e) {
        failures.push(`${room}: ${e.message}`);
      }
    }
  };
  const load = Promise.all([0, 1, 2, 3].map(client));
  try {
    for (const host of HOSTS) {
      // The new version: a changed environment, so that the reload replaces every worker.
      const policy = '    policy: {url_segment: {index: 2}}\n';
      const text = fs.readFileSync(host.file, 'utf8');
      assert.ok(text.includes(policy));
      fs.writeFileSync(host.file, text.replace(policy, `${policy}    env: {VERSION: "${host.name}-2"}\n`));
      const old = workersOf(host);
      const mark = done;
      const reload = spawnSync(h.SUPERVISOR, ['reload', '--config', host.file], { encoding: 'utf8', timeout: 60000 });
      assert.strictEqual(reload.status, 0, reload.stderr);
      // Its workers replaced, /readyz 200 again, and load went through meanwhile.
      const ready = await h.eventually(async () => {
        const now = workersOf(host);
        const replaced = now.length > 0 && now.every((pid) => !old.includes(pid));
        const status = await readyz(host);
        return { ok: replaced && status === 200 && done > mark + 50, old, now, status, served: done - mark };
      });
      assert.ok(ready.ok, `${host.name}: its workers replaced and ready, with load going through: ${JSON.stringify(ready)}; reload said ${reload.stdout}`);
    }
  } finally {
    stop = true;
    await load;
  }
  t.diagnostic(`${done} requests during the rolling reload of ${HOSTS.length} hosts`);
  assert.ok(done > 0);
  assert.deepStrictEqual(failures, []);
});
