'use strict';
// Ports for the listeners a test gives the supervisor, safe with test processes side by
// side (ctest -j2, other clones on the machine).
//
// A port the kernel calls free when asked for port 0 lies in the ephemeral range, from
// which every outgoing connection of the machine also takes its source port: between the
// check and the master's bind, another test's load could take it. So test ports come from
// below that range (net.ipv4.ip_local_port_range; Windows' dynamic range starts at 49152),
// in a block of BLOCK ports that this process claims for as long as it lives: it holds a
// listening socket on the block's first port, so the kernel itself says which blocks are
// taken and frees a claim when its process dies, however it dies. Each port handed out is
// also checked: no socket of the machine uses it (a TIME_WAIT left by an earlier test file
// blocks a bind without SO_REUSEADDR, as under wine), and a bind to it succeeds.

const fs = require('node:fs');
const net = require('node:net');

const BLOCK = 200; // a test file asks for at most a few dozen ports; handed out in turn
const FIRST = 10000; // below it, the ports of well-known services (8080, 9090...)

// The first port of the ephemeral range: test ports stay below it.
function ephemeralStart() {
  try {
    return Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
  } catch {
    return 49152; // not Linux: the dynamic range of Windows and IANA
  }
}

function listenOn(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(null));
    srv.listen({ port, host: '127.0.0.1', exclusive: true }, () => resolve(srv));
  });
}

// Local ports of every TCP socket of this network namespace, in any state (Linux).
function portsInUse() {
  const used = new Set();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const local = line.trim().split(/\s+/)[1];
      if (local) used.add(parseInt(local.split(':').pop(), 16));
    }
  }
  return used;
}

let claim = null; // { base, next }: this process's block, and the next port to try

async function claimBlock() {
  const end = ephemeralStart();
  const blocks = Math.floor((end - FIRST) / BLOCK);
  if (blocks < 1)
    throw new Error(`no room for test ports between ${FIRST} and the ephemeral range (from ${end}); ` +
      'see /proc/sys/net/ipv4/ip_local_port_range');
  // Start where the pid says, so that processes started together try different blocks.
  for (let i = 0; i < blocks; i++) {
    const base = FIRST + ((process.pid + i) % blocks) * BLOCK;
    const holder = await listenOn(base);
    if (!holder) continue; // another test process holds it (or something else uses the port)
    holder.unref(); // held until this process exits, without keeping it alive
    return { base, next: base + 1 };
  }
  throw new Error(`every block of ${BLOCK} test ports from ${FIRST} to ${end} is held by another process`);
}

// A port of this process's block that nothing uses now, and not one handed out in the last
// BLOCK - 1 calls (a test asking for three ports gets three).
async function freePort() {
  claim ??= claimBlock();
  const block = await claim;
  const used = portsInUse();
  for (let tries = 0; tries < BLOCK - 1; tries++) {
    const port = block.next;
    block.next = port + 1 < block.base + BLOCK ? port + 1 : block.base + 1;
    if (used.has(port)) continue;
    const srv = await listenOn(port);
    if (!srv) continue;
    await new Promise((resolve) => srv.close(resolve));
    return port;
  }
  throw new Error(`no free port in this process's block ${block.base + 1}-${block.base + BLOCK - 1}`);
}

module.exports = { freePort };
