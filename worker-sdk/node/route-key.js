'use strict';
// Route keys in plain JS: the same functions as protocols/route_key.{h,cpp} and
// protocols/consistent_hash.cpp, so that a worker decides exactly as the master would
// whether the next request on a keep-alive connection is still its own.
// tests/fixtures/route-keys.json holds the cases every implementation agrees on.
//
// Keys are bytes. Node hands out request lines and header values as latin1 strings (one
// char per byte), so a string key is hashed as Buffer.from(key, 'latin1'): the bytes the
// client sent, as the master hashed them.

const MASK64 = (1n << 64n) - 1n;
const P1 = 0x9e3779b185ebca87n;
const P2 = 0xc2b2ae3d27d4eb4fn;
const P3 = 0x165667b19e3779f9n;
const P4 = 0x85ebca77c2b2ae63n;
const P5 = 0x27d4eb2f165667c5n;

const rotl = (x, r) => ((x << BigInt(r)) | (x >> BigInt(64 - r))) & MASK64;
const mul = (a, b) => (a * b) & MASK64;
const add = (a, b) => (a + b) & MASK64;

function round(acc, lane) {
  return mul(rotl(add(acc, mul(lane, P2)), 31), P1);
}

function mergeRound(acc, v) {
  return add(mul(acc ^ round(0n, v), P1), P4);
}

// XXH64 with seed 0 of a Buffer, as a BigInt. BigInt is plenty fast for route keys
// (tens of bytes, once per request after a connection's first).
function xxh64(bytes) {
  const len = bytes.length;
  let i = 0;
  let h;
  if (len >= 32) {
    let v1 = add(P1, P2);
    let v2 = P2;
    let v3 = 0n;
    let v4 = (MASK64 + 1n - P1) & MASK64;
    for (; i + 32 <= len; i += 32) {
      v1 = round(v1, bytes.readBigUInt64LE(i));
      v2 = round(v2, bytes.readBigUInt64LE(i + 8));
      v3 = round(v3, bytes.readBigUInt64LE(i + 16));
      v4 = round(v4, bytes.readBigUInt64LE(i + 24));
    }
    h = add(add(rotl(v1, 1), rotl(v2, 7)), add(rotl(v3, 12), rotl(v4, 18)));
    h = mergeRound(h, v1);
    h = mergeRound(h, v2);
    h = mergeRound(h, v3);
    h = mergeRound(h, v4);
  } else {
    h = P5;
  }
  h = add(h, BigInt(len));
  for (; i + 8 <= len; i += 8) {
    h ^= round(0n, bytes.readBigUInt64LE(i));
    h = add(mul(rotl(h, 27), P1), P4);
  }
  if (i + 4 <= len) {
    h ^= mul(BigInt(bytes.readUInt32LE(i)), P1);
    h = add(mul(rotl(h, 23), P2), P3);
    i += 4;
  }
  for (; i < len; i++) {
    h ^= mul(BigInt(bytes[i]), P5);
    h = mul(rotl(h, 11), P1);
  }
  h ^= h >> 33n;
  h = mul(h, P2);
  h ^= h >> 29n;
  h = mul(h, P3);
  h ^= h >> 32n;
  return h;
}

const toBytes = (key) => (Buffer.isBuffer(key) ? key : Buffer.from(key, 'latin1'));

// Jump consistent hash (Lamping & Veach) of a 64-bit key (BigInt) among `buckets`, in
// the double arithmetic of protocols/consistent_hash.cpp: (key >> 33) + 1 is below 2^31
// + 2 and the quotient and product are IEEE doubles in both languages, so the results
// agree bit for bit; C++'s cast to int64 truncates like Math.trunc.
function jumpHash(key, buckets) {
  let bucket = -1;
  let next = 0;
  while (next < buckets) {
    bucket = next;
    key = add(mul(key, 2862933555777941757n), 1n);
    next = Math.trunc((bucket + 1) * (2147483648 / (Number(key >> 33n) + 1)));
  }
  return bucket;
}

// The 0-based slot of a key (latin1 string or Buffer) among `slots` (at least 1).
function slotForKey(key, slots) {
  return jumpHash(xxh64(toBytes(key)), Math.max(1, Math.min(slots, 0xffffffff)));
}

// ip_hash's address hash (protocols/address_hash.h; the kernel's program computes it too
// under kernel dispatch): the address's bytes as big-endian 32-bit words (an IPv4-mapped
// IPv6 address as its IPv4 word), h = seed, per word h = (h ^ w) * M1, h ^= h >>> 16,
// then murmur3's fmix32; bucket = h & 1023; slot = jumpHash(bucket). 32-bit products by
// Math.imul, as C++'s uint32_t wraps.
const ADDRESS_BUCKETS = 1024;

// The 4 or 16 bytes of an address as Node shows it (socket.remoteAddress: "1.2.3.4",
// "::ffff:1.2.3.4", "fe80::1%eth0"), or null. No dependency for this: the SDK has none.
function addressBytes(text) {
  if (typeof text !== 'string') return null;
  const v4 = (s) => {
    const parts = s.split('.');
    if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)) return null;
    return parts.map(Number);
  };
  if (!text.includes(':')) {
    const b = v4(text);
    return b ? Buffer.from(b) : null;
  }
  const zone = text.indexOf('%');
  const s = zone >= 0 ? text.slice(0, zone) : text;
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const groups = (part) => {
    if (part === '') return [];
    const out = [];
    const fields = part.split(':');
    for (let i = 0; i < fields.length; i++) {
      const f = fields[i];
      if (i === fields.length - 1 && f.includes('.')) {
        const b = v4(f);
        if (!b) return null;
        out.push((b[0] << 8) | b[1], (b[2] << 8) | b[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(f)) out.push(parseInt(f, 16));
      else return null;
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...new Array(missing).fill(0), ...tail];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(g, 2 * i));
  return out;
}

function addressMix(bytes) {
  let b = bytes;
  if (b.length === 16 && b.readUInt32BE(0) === 0 && b.readUInt32BE(4) === 0 && b.readUInt32BE(8) === 0xffff)
    b = b.subarray(12);
  let h = 0x9747b28c;
  for (let i = 0; i + 4 <= b.length; i += 4) {
    h = Math.imul((h ^ b.readUInt32BE(i)) >>> 0, 0x9e3779b1) >>> 0;
    h = (h ^ (h >>> 16)) >>> 0;
  }
  h = (h ^ (h >>> 16)) >>> 0;
  h = Math.imul(h, 0x85ebca6b) >>> 0;
  h = (h ^ (h >>> 13)) >>> 0;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  h = (h ^ (h >>> 16)) >>> 0;
  return h;
}

// ip_hash: the 0-based slot of a client address (a string as Node shows it, or its 4 or
// 16 bytes) among `slots` (at least 1); null for what is not an address.
function slotForAddress(address, slots) {
  const bytes = Buffer.isBuffer(address) ? address : addressBytes(address);
  if (!bytes || (bytes.length !== 4 && bytes.length !== 16)) return null;
  const bucket = addressMix(bytes) & (ADDRESS_BUCKETS - 1);
  return jumpHash(BigInt(bucket), Math.max(1, Math.min(slots, 0xffffffff)));
}

// "3" → 2 among at least 3 slots: a decimal number from 1 to `slots`, without sign or
// leading zeros; anything else null.
function directSlot(key, slots) {
  if (!/^[1-9][0-9]*$/.test(key) || key.length > 19) return null;
  const n = Number(key);
  return n <= slots ? n - 1 : null;
}

const unlessEmpty = (s) => (s === undefined || s === '' ? null : s);

// The Nth segment (1-based) of an origin-form path, as sent; empty or missing is null.
function pathSegment(path, index) {
  if (index < 1 || !path.startsWith('/')) return null;
  const parts = path.slice(1).split('/');
  return index <= parts.length ? unlessEmpty(parts[index - 1]) : null;
}

// The value of `name` in "a=1&b=2"; the first pair with that name decides, empty is null.
function queryValue(query, name) {
  if (query === '') return null;
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const key = eq < 0 ? pair : pair.slice(0, eq);
    if (key === name) return unlessEmpty(eq < 0 ? '' : pair.slice(eq + 1));
  }
  return null;
}

const trimBlanks = (s) => s.replace(/^[ \t]+|[ \t]+$/g, '');

// The value of cookie `name` in "a=1; b=2": blanks around names and values and one pair
// of surrounding double quotes removed; the first match decides, empty is null.
function cookieValue(header, name) {
  if (header === '') return null;
  for (const part of header.split(';')) {
    const pair = trimBlanks(part);
    const eq = pair.indexOf('=');
    const key = trimBlanks(eq < 0 ? pair : pair.slice(0, eq));
    if (key !== name) continue;
    let value = trimBlanks(eq < 0 ? '' : pair.slice(eq + 1));
    if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    return unlessEmpty(value);
  }
  return null;
}

// "Example.com:8080" → "Example.com" (case kept), "[::1]:80" → "[::1]"; what follows the
// host must be nothing or ':' and digits, otherwise null.
function hostWithoutPort(header) {
  let host = header;
  let after = '';
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close < 0) return null;
    after = host.slice(close + 1);
    host = host.slice(0, close + 1);
  } else {
    const colon = host.indexOf(':');
    if (colon >= 0) {
      after = host.slice(colon);
      host = host.slice(0, colon);
    }
  }
  if (after !== '' && !/^:[0-9]*$/.test(after)) return null;
  return unlessEmpty(host);
}

// ASCII only, like the master's std::tolower in the C locale (a latin1 'À' stays).
const asciiLower = (s) => s.replace(/[A-Z]+/g, (m) => m.toLowerCase());

// The first value of header `name` (any case) in Node's req.rawHeaders [name, value, ...].
function firstHeader(rawHeaders, name) {
  const lower = name.toLowerCase();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    if (rawHeaders[i].toLowerCase() === lower) return rawHeaders[i + 1];
  }
  return null;
}

// The key of the request under the app's rule, as the master's KeyRule subclasses take
// it (supervisor/core/routing/dispatch_policies.cpp), or null when it has none.
function keyOf(route, path, query, rawHeaders) {
  switch (route.rule) {
    case 'url_segment':
      return pathSegment(path, Number.isInteger(route.index) ? route.index : 1);
    case 'host': {
      const host = firstHeader(rawHeaders, 'host');
      const name = host === null ? null : hostWithoutPort(host);
      return name === null ? null : asciiLower(name);
    }
    case 'header':
      return unlessEmpty(firstHeader(rawHeaders, String(route.name ?? '')) ?? '');
    case 'cookie':
      for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
        if (rawHeaders[i].toLowerCase() !== 'cookie') continue;
        const value = cookieValue(rawHeaders[i + 1], String(route.name ?? ''));
        if (value !== null) return value;
      }
      return null;
    case 'query':
      return queryValue(query, String(route.name ?? ''));
    default:
      return null;
  }
}

// Whether a request (its target as sent, e.g. req.url, and req.rawHeaders) belongs to this
// worker: `route` from welcome.route, `slot` 1-based, `workers` the app's slot count.
// Without a route, or with a rule a worker cannot evaluate, everything stays.
//  - ports shared by prefix: the longest matching prefix among the app's and the foreign
//    ones must be the app's (no match at all: the master would answer 404; it goes back);
//  - the key maps to a slot as in the master; a direct url_segment that is not a slot
//    number counts as no key; no key: stays unless `missing` is "handback".
function belongsHere(route, slot, workers, target, rawHeaders) {
  if (route === null || typeof route !== 'object') return true;
  const question = target.indexOf('?');
  const path = question < 0 ? target : target.slice(0, question);
  const query = question < 0 ? '' : target.slice(question + 1);
  const prefixes = Array.isArray(route.prefixes) ? route.prefixes : [];
  if (prefixes.length > 0) {
    const foreign = Array.isArray(route.foreign) ? route.foreign : [];
    let best = null;
    let ours = false;
    for (const [list, own] of [[prefixes, true], [foreign, false]]) {
      for (const prefix of list) {
        if (typeof prefix === 'string' && path.startsWith(prefix) && (best === null || prefix.length > best.length)) {
          best = prefix;
          ours = own;
        }
      }
    }
    if (!ours) return false;
  }
  if (!['url_segment', 'host', 'header', 'cookie', 'query'].includes(route.rule)) return true;
  const key = keyOf(route, path, query, rawHeaders);
  if (key !== null) {
    const target0 = route.rule === 'url_segment' && route.direct ? directSlot(key, workers) : slotForKey(key, workers);
    if (target0 !== null) return target0 === slot - 1;
  }
  return route.missing !== 'handback';
}

module.exports = {
  xxh64,
  jumpHash,
  slotForKey,
  addressMix,
  slotForAddress,
  directSlot,
  pathSegment,
  queryValue,
  cookieValue,
  hostWithoutPort,
  keyOf,
  belongsHere,
};
