'use strict';
// The Node SDK's route keys (worker-sdk/node/route-key.js) against the cases every
// implementation must agree on (tests/fixtures/route-keys.json, produced by the C++ side
// and checked with xxhsum), and the per-request decision built on them.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const rk = require('../../worker-sdk/node/route-key');

const fixtures = require(path.join(__dirname, '..', 'fixtures', 'route-keys.json'));
// The fixtures' keys are the UTF-8 bytes of their JSON strings.
const bytes = (s) => Buffer.from(s, 'utf8');

test('XXH64 (seed 0) matches every fixture', () => {
  assert.ok(fixtures.hash.length > 20);
  for (const { key, xxh64 } of fixtures.hash) {
    assert.equal(rk.xxh64(bytes(key)).toString(16).padStart(16, '0'), xxh64, JSON.stringify(key));
  }
});

test('slot_for_key (jump hash of XXH64) matches every fixture', () => {
  for (const { key, slots, slot } of fixtures.slots) {
    assert.equal(rk.slotForKey(bytes(key), slots), slot, `${JSON.stringify(key)} among ${slots}`);
  }
});

test('a latin1 string key hashes as its bytes (how Node hands out header values)', () => {
  const utf8 = bytes('café');
  assert.equal(rk.xxh64(Buffer.from(utf8.toString('latin1'), 'latin1')), rk.xxh64(utf8));
  assert.equal(rk.slotForKey(utf8.toString('latin1'), 7), rk.slotForKey(utf8, 7));
});

test('jump hash reproduces Guava\'s golden values (as tests/unit/test_route_key.cpp)', () => {
  const golden100 = [0, 55, 62, 8, 45, 59, 86, 97, 82, 59, 73, 37, 17, 56, 86, 21, 90, 37, 38, 83];
  golden100.forEach((bucket, i) => assert.equal(rk.jumpHash(BigInt(i), 100), bucket, `key ${i}`));
  assert.equal(rk.jumpHash(10863919174838991n, 11), 6);
  assert.equal(rk.jumpHash(2016238256797177309n, 11), 3);
  assert.equal(rk.jumpHash(1673758223894951030n, 11), 5);
  assert.equal(rk.jumpHash(2n, 100001), 80343);
  assert.equal(rk.jumpHash(2201n, 100001), 22152);
  assert.equal(rk.jumpHash(2202n, 100001), 15018);
});

test('path segments, queries, cookies, hosts and direct slots match every fixture', () => {
  for (const { path: p, index, key } of fixtures.segments) assert.equal(rk.pathSegment(p, index), key, `${p} ${index}`);
  for (const { query, name, key } of fixtures.queries) assert.equal(rk.queryValue(query, name), key, `${query} ${name}`);
  for (const { cookie, name, key } of fixtures.cookies) assert.equal(rk.cookieValue(cookie, name), key, `${cookie} ${name}`);
  for (const { host, key } of fixtures.hosts) assert.equal(rk.hostWithoutPort(host), key, host);
  for (const { key, slots, slot } of fixtures.direct) assert.equal(rk.directSlot(key, slots), slot, `${key} ${slots}`);
});

test('belongsHere decides as the master routes', () => {
  const seg = { rule: 'url_segment', index: 1, direct: true, missing: 'stay', prefixes: [], foreign: [] };
  assert.equal(rk.belongsHere(seg, 2, 4, '/2/pid', []), true);
  assert.equal(rk.belongsHere(seg, 2, 4, '/3/pid', []), false);
  assert.equal(rk.belongsHere(seg, 2, 4, '/3', []), false);
  assert.equal(rk.belongsHere(seg, 2, 4, '/3?x=1', []), false);
  // Not a slot number (or out of range): no key, so `missing` decides.
  assert.equal(rk.belongsHere(seg, 2, 4, '/9/pid', []), true);
  assert.equal(rk.belongsHere(seg, 2, 4, '/', []), true);
  assert.equal(rk.belongsHere({ ...seg, missing: 'handback' }, 2, 4, '/x/pid', []), false);
  assert.equal(rk.belongsHere({ ...seg, missing: 'handback' }, 2, 4, '/2/pid', []), true);

  // Hashed keys: whichever slot the key maps to keeps it.
  const room = rk.slotForKey('room-42', 4) + 1;
  const hdr = { rule: 'header', name: 'X-Room', missing: 'handback' };
  for (let slot = 1; slot <= 4; slot++) {
    assert.equal(rk.belongsHere(hdr, slot, 4, '/', ['x-room', 'room-42']), slot === room);
    assert.equal(rk.belongsHere({ rule: 'query', name: 'room' }, slot, 4, '/a?room=room-42', []), slot === room);
    assert.equal(
      rk.belongsHere({ rule: 'cookie', name: 'room' }, slot, 4, '/', ['Cookie', 'a=1', 'cookie', 'room=room-42']),
      slot === room,
    );
  }
  assert.equal(rk.belongsHere(hdr, 1, 4, '/', ['X-Room', '']), false); // empty is missing
  // The first header of that name counts, as in the master.
  const first = rk.slotForKey('a', 4) + 1;
  assert.equal(rk.belongsHere(hdr, first, 4, '/', ['X-Room', 'a', 'X-Room', 'room-42']), true);
  // Host: without port, ASCII-lowercased.
  const host = rk.slotForKey('example.com', 3) + 1;
  assert.equal(rk.belongsHere({ rule: 'host' }, host, 3, '/', ['Host', 'EXAMPLE.com:8080']), true);
  assert.equal(rk.belongsHere({ rule: 'host' }, (host % 3) + 1, 3, '/', ['Host', 'example.com']), false);

  // Ports shared by prefix: the longest matching prefix decides the app.
  const shared = { rule: '', prefixes: ['/a/'], foreign: ['/b/', '/a/b/'] };
  assert.equal(rk.belongsHere(shared, 1, 2, '/a/x', []), true);
  assert.equal(rk.belongsHere(shared, 1, 2, '/b/x', []), false);
  assert.equal(rk.belongsHere(shared, 1, 2, '/a/b/x', []), false);
  assert.equal(rk.belongsHere(shared, 1, 2, '/c', []), false); // nobody's: the master's 404

  // No route, or a rule a worker cannot check: everything stays.
  assert.equal(rk.belongsHere(undefined, 1, 4, '/3/x', []), true);
  assert.equal(rk.belongsHere({ rule: 'plugin' }, 1, 4, '/3/x', []), true);
});

// ip_hash's address hash: the parity fixture every implementation passes (the master, the
// kernel's program, the C++ SDK; tests/fixtures/routing-parity.txt).
test('slotForAddress matches every line of the routing parity fixture', () => {
  const fs = require('node:fs');
  const lines = fs
    .readFileSync(path.join(__dirname, '..', 'fixtures', 'routing-parity.txt'), 'utf8')
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(' '));
  assert.ok(lines.length >= 500);
  for (const [policy, address, workers, slot] of lines) {
    assert.equal(policy, 'ip_hash');
    assert.equal(rk.slotForAddress(address, Number(workers)) + 1, Number(slot), `${address} among ${workers}`);
  }
});

test('slotForAddress: an IPv4-mapped address is its IPv4 address; bytes work as text; junk is null', () => {
  for (let i = 0; i < 256; i++) {
    const v4 = `192.0.${i}.${255 - i}`;
    assert.equal(rk.slotForAddress(`::ffff:${v4}`, 13), rk.slotForAddress(v4, 13));
    assert.equal(rk.slotForAddress(`::FFFF:${v4}`, 13), rk.slotForAddress(v4, 13));
  }
  assert.equal(rk.slotForAddress(Buffer.from([127, 0, 0, 9]), 7), rk.slotForAddress('127.0.0.9', 7));
  assert.equal(rk.slotForAddress('fe80::1234:5678%eth0', 5), rk.slotForAddress('fe80::1234:5678', 5));
  assert.equal(rk.slotForAddress('0:0:0:0:0:0:0:1', 5), rk.slotForAddress('::1', 5));
  for (const junk of ['', 'x', '1.2.3', '1.2.3.256', '1::2::3', '1:2:3:4:5:6:7:8:9', ':::', undefined])
    assert.equal(rk.slotForAddress(junk, 4), null, String(junk));
});
