'use strict';
// The chat-room load of bench/rooms.sh: ROOMS rooms of MEMBERS WebSocket clients each, on
// examples/chat/server.js. In every room one member speaks, waits until every member
// (itself included) has received its message, then speaks again: a closed loop per room,
// so ROOMS messages are in flight at any time. A room whose members landed in different
// processes never completes a round: it is counted as split, and the run fails.
//
//   node bench/rooms-client.js PORTS ROOMS MEMBERS SECONDS [WARMUP_SECONDS]
//     PORTS: "8080" (every room through one port), or "8081,8082" (the client itself picks a
//     worker's own port for each room, by the same jump hash of XXH64 as the supervisor's
//     url_segment rule: ideal sharding with nothing in between)
// Prints one JSON line: rounds per second, deliveries per second (rounds x MEMBERS), round
// latency p50/p99 in ms, connect time of all sockets, split rooms, rooms per process,
// client CPU in cores.
const { performance } = require('node:perf_hooks');
const { slotForKey } = require('../worker-sdk/node/route-key');

const { requireDebianPackage } = require('../examples/chat/debian-package');
const { WebSocket } = requireDebianPackage('ws');

const [portsArg, roomsArg, membersArg, secondsArg, warmupArg = '1'] = process.argv.slice(2);
const ports = portsArg.split(',').map(Number);
const ROOMS = Number(roomsArg);
const MEMBERS = Number(membersArg);
const SECONDS = Number(secondsArg);
const WARMUP = Number(warmupArg);
const PAYLOAD = 'x'.repeat(64);

function portFor(room) {
  return ports[ports.length === 1 ? 0 : slotForKey(room, ports.length)];
}

function connect(port, room) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/chat/${room}`, { perMessageDeflate: false });
    ws.once('message', (data) => resolve({ ws, pid: JSON.parse(data.toString()).pid }));
    ws.once('error', reject);
  });
}

async function main() {
  const started = performance.now();
  const rooms = [];
  for (let r = 0; r < ROOMS; r++) {
    const name = `room-${r}`;
    const members = [];
    // Members join one after another so each welcome tells the process that holds the room.
    for (let m = 0; m < MEMBERS; m++) members.push(await connect(portFor(name), name));
    rooms.push({ name, members, pending: 0, sentAt: 0 });
  }
  const connectMs = performance.now() - started;
  const split = rooms.filter((room) => new Set(room.members.map((m) => m.pid)).size > 1).length;
  // Rooms per process, busiest first: a lopsided spread explains a low figure.
  const perProcess = new Map();
  for (const room of rooms) perProcess.set(room.members[0].pid, (perProcess.get(room.members[0].pid) ?? 0) + 1);
  const spread = [...perProcess.values()].sort((a, b) => b - a).join('/');

  let measuring = false;
  let stopped = false;
  let rounds = 0;
  const latencies = [];
  for (const room of rooms) {
    const speak = () => {
      if (stopped) return;
      room.pending = MEMBERS;
      room.sentAt = performance.now();
      room.members[0].ws.send(PAYLOAD);
    };
    for (const member of room.members) {
      member.ws.on('message', () => {
        if (--room.pending > 0) return;
        if (measuring) {
          rounds++;
          latencies.push(performance.now() - room.sentAt);
        }
        speak();
      });
    }
    if (!split) speak();
  }

  const cpuBefore = await new Promise((resolve) => setTimeout(() => resolve(process.cpuUsage()), WARMUP * 1000));
  measuring = true;
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  measuring = false;
  stopped = true;
  const elapsed = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  latencies.sort((a, b) => a - b);
  const pct = (p) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] : NaN);
  console.log(JSON.stringify({
    rounds_per_s: Math.round(rounds / elapsed),
    deliveries_per_s: Math.round((rounds * MEMBERS) / elapsed),
    p50_ms: Number(pct(0.5).toFixed(2)),
    p99_ms: Number(pct(0.99).toFixed(2)),
    connect_ms: Math.round(connectMs),
    split_rooms: split,
    rooms_per_process: spread,
    client_cpu: Number(((cpu.user + cpu.system) / 1e6 / elapsed).toFixed(2)),
  }));
  for (const room of rooms) for (const m of room.members) m.ws.terminate();
  process.exit(split ? 1 : 0);
}


main().catch((error) => {
  console.error(`rooms-client: ${error.stack || error}`);
  process.exit(1);
});
