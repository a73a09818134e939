'use strict';
// The Node SDK's side of the master's output cache (issue 19). When the master's `welcome`
// offers `cache` ({max_entry}), each response to a request on a handed-over socket is
// judged once it has finished: a cacheable one goes to the master as `cache_put` (its
// headers and the exact bytes of its body), and the first request of a connection whose
// `conn` said `fill` (the master holds other requests for its key until it hears) gets a
// `cache_pass` when its response is not cacheable or never finishes.
//
// The rule is protocols/README.md's ("`cache` in `welcome`"), the one the C++ SDK and the
// master apply (protocols/cache_rules.h): a GET without Authorization; status 200, 301 or
// 404; no Set-Cookie or Pragma: no-cache; Cache-Control without private, no-store or
// no-cache; a Vary naming nothing but Accept-Encoding; and a lifetime: the app's `res.cacheDuration` (seconds; 0:
// never), else Cache-Control public with s-maxage or max-age above 0 (s-maxage first, the
// first of each counting, one that is not a number refusing). The master judges again:
// this is a hint that saves it the work for responses it would drop anyway.
//
// Nothing here runs without the offer: index.js calls watchResponse() only then.

// The statuses a response may be cached with (a page, a permanent redirect, a missing page).
const CACHEABLE_STATUSES = Object.freeze([200, 301, 404]);
// Header fields a put leaves out: the framing (the master frames what it serves itself)
// and Date (it would be stale). Lower-case.
const LEFT_OUT_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'date']);
// Delta-seconds beyond this count as this (RFC 9111 1.2.2).
const MAX_DELTA_SECONDS = 2 ** 31;
const PROTOCOL_VERSION = 1;

// welcome.cache -> { maxEntry } or null (no offer, or one this SDK cannot read: then it
// behaves as without one).
function cacheOffer(cache) {
  if (cache === null || typeof cache !== 'object') return null;
  const maxEntry = cache.max_entry;
  return Number.isSafeInteger(maxEntry) && maxEntry >= 0 ? { maxEntry } : null;
}

// What names the cache's key: the Host lower-cased (host names are case-insensitive), and
// the target as received. Read at the 'request' event, before the app runs: frameworks
// rewrite req.url for mounted routers.
function keyOf(req) {
  return { host: String(req.headers.host ?? '').trim().toLowerCase(), target: req.url };
}

// A GET (a HEAD's response has no body to keep) without credentials (a shared cache keeps
// no answer to Authorization).
function cacheableRequest(req) {
  return req.method === 'GET' && req.headers.authorization === undefined;
}

// Watches one response (index.js, at its 'request' event, before any listener of the
// app's). `fill`: it is the first request of a `fill` connection, which the master waits
// on. `send` sends one message to the master.
function watchResponse(req, res, offer, fill, send) {
  const candidate = cacheableRequest(req);
  if (!candidate && !fill) return; // nothing to capture, nobody waiting
  const key = keyOf(req);
  const capture = candidate ? captureBody(res, offer.maxEntry) : null;
  let answered = false;
  res.once('finish', () => {
    answered = true;
    const put = capture && putFor(res, key, req.headers['accept-encoding'], capture);
    if (put) send(put);
    else if (fill) send(passFor(key));
  });
  // The response will never finish (the connection went first, or the app destroyed it):
  // the master must not wait for nothing.
  if (fill) {
    res.once('close', () => {
      if (!answered) send(passFor(key));
      answered = true;
    });
  }
}

// The first request of a `fill` connection that left HTTP ('upgrade', 'connect'): it has
// no response to keep.
function passUnanswered(req, send) {
  send(passFor(keyOf(req)));
}

function passFor(key) {
  return { handoff: 'cache_pass', v: PROTOCOL_VERSION, host: key.host, target: key.target };
}

// -> the `cache_put` for a finished response, or null when it is not to be kept.
function putFor(res, key, acceptEncoding, capture) {
  const body = capture.body();
  const head = capture.head;
  if (body === null || head === null) return null;
  const ttl = lifetime(res.statusCode, head.facts, res.cacheDuration);
  if (ttl === 0) return null;
  const put = { handoff: 'cache_put', v: PROTOCOL_VERSION, host: key.host, target: key.target };
  if (typeof acceptEncoding === 'string' && acceptEncoding !== '') put.accept_encoding = acceptEncoding;
  if (res.cacheDuration != null) put.ttl = ttl;
  put.status = res.statusCode;
  put.headers = head.headers;
  put.body = body.toString('base64');
  return put;
}

// ---- the body ----

// Records the bytes of the body as they are written, by wrapping this response's own
// write() and end() now, before the app's handlers run. Middleware that transforms the
// body (compression) wraps them later, over these, so what these see is what goes on the
// wire; Node's end(chunk) writes its chunk without calling write(), so nothing counts
// twice. The chunks are copied (an app may reuse its buffer once write() returns), and
// only while the response may still be kept: once the head is out (at the first write or
// end) and refuses it, or the body passes maxEntry, nothing more is recorded.
function captureBody(res, maxEntry) {
  const capture = {
    head: null, // what the head says, once written: { headers, facts }
    chunks: [],
    size: 0,
    refused: false,
    body: () => (capture.refused || capture.head === null ? null : Buffer.concat(capture.chunks, capture.size)),
  };
  const refuse = () => {
    capture.refused = true;
    capture.chunks = null;
  };
  const record = (response, chunk, encoding) => {
    if (capture.head === null) {
      capture.head = judgeHead(response);
      if (capture.head === null) refuse();
    }
    if (capture.refused || chunk == null || typeof chunk === 'function') return;
    let bytes;
    try {
      // As Node turns it into bytes: a string in its encoding (utf8 by default), else a copy.
      if (typeof chunk !== 'string') bytes = Buffer.from(chunk);
      else bytes = Buffer.from(chunk, typeof encoding === 'string' ? encoding : 'utf8');
    } catch {
      refuse(); // not something we can take as Node did: keep nothing rather than wrong bytes
      return;
    }
    capture.size += bytes.length;
    if (capture.size > maxEntry) refuse();
    else if (bytes.length > 0) capture.chunks.push(bytes);
  };
  const write = res.write;
  const end = res.end;
  // Recorded after Node took the call: one that throws, or comes after end(), wrote nothing.
  res.write = function cacheWrite(chunk, encoding, callback) {
    const open = !this.writableEnded;
    const result = write.apply(this, arguments);
    if (open && !capture.refused) record(this, chunk, encoding);
    return result;
  };
  res.end = function cacheEnd(chunk, encoding, callback) {
    const open = !this.writableEnded;
    const result = end.apply(this, arguments);
    if (open && !capture.refused) record(this, chunk, encoding);
    return result;
  };
  return capture;
}

// ---- the head ----

// The head as Node wrote it (res._header, set by writeHead or the first write): the
// fields as they go out, however the app gave them. res.getHeaders() would miss the ones
// passed to writeHead() alone (Node stores those in no list: Fastify, and many apps, do
// it). -> { headers: [[name, value], ...] without LEFT_OUT_HEADERS, facts }, or null when
// the head already refuses the response or is not there to read. The lifetime counts
// here already, with res.cacheDuration as set by then (the app sets it before the head
// goes out, as with HTTP.SYS): most responses have none, and their bodies are then never
// copied. It is judged again at the end, so a cacheDuration of 0 set later still refuses.
function judgeHead(res) {
  const text = res._header;
  if (typeof text !== 'string' || text === '' || !CACHEABLE_STATUSES.includes(res.statusCode)) return null;
  const facts = newFacts();
  const headers = [];
  const lines = text.split('\r\n');
  for (let i = 1; i < lines.length; i++) {
    const colon = lines[i].indexOf(':');
    if (colon <= 0) continue; // the blank lines that end the head
    const name = lines[i].slice(0, colon);
    const value = lines[i].slice(colon + 1).trim();
    const lower = name.toLowerCase();
    addFact(facts, lower, value);
    if (!LEFT_OUT_HEADERS.has(lower)) headers.push([name, value]);
  }
  return lifetime(res.statusCode, facts, res.cacheDuration) > 0 ? { headers, facts } : null;
}

// What the response's fields say about keeping it in a shared cache.
function newFacts() {
  return { forbidden: false, public: false, maxAge: undefined, sMaxage: undefined };
}

function addFact(facts, name, value) {
  if (name === 'set-cookie') facts.forbidden = true; // a cookie meant for one client would go to all
  else if (name === 'cache-control') cacheControl(facts, value);
  else if (name === 'vary') vary(facts, value);
  // An HTTP/1.0 cache's "do not keep" (protocols/cache_rules.h refuses it too).
  else if (name === 'pragma' && listItems(value).includes('no-cache')) facts.forbidden = true;
}

// The items of a comma-separated field value, trimmed and lower-cased.
function listItems(value) {
  return String(value)
    .split(',')
    .map((item) => item.trim().toLowerCase());
}

// One directive of a Cache-Control list (RFC 9111 5.2): its name, then `=token` or
// `="quoted string"` (a comma inside the quotes does not end it: private="Set-Cookie, X"),
// then anything up to the next comma, skipped.
const DIRECTIVE = /([^=,\s]+)(?:=(?:"((?:[^"\\]|\\.)*)"?|([^,\s]*)))?[^,]*/g;

function cacheControl(facts, list) {
  for (const [, rawName, quoted, token] of list.matchAll(DIRECTIVE)) {
    const name = rawName.toLowerCase();
    const value = quoted ?? token ?? '';
    if (name === 'private' || name === 'no-store' || name === 'no-cache') facts.forbidden = true;
    else if (name === 'public') facts.public = true;
    // Of a directive given twice, the first counts (RFC 9111 4.2.1).
    else if (name === 'max-age' && facts.maxAge === undefined) facts.maxAge = deltaSeconds(value);
    else if (name === 's-maxage' && facts.sMaxage === undefined) facts.sMaxage = deltaSeconds(value);
  }
}

// The cache keys an entry by the request's Accept-Encoding and by nothing else of the
// request: a response that varies on more (`*` included) cannot be kept.
function vary(facts, list) {
  for (const name of listItems(list)) if (name !== '' && name !== 'accept-encoding') facts.forbidden = true;
}

// delta-seconds: digits, capped; NaN when it is not a number.
function deltaSeconds(text) {
  return /^[0-9]+$/.test(text) ? Math.min(Number(text), MAX_DELTA_SECONDS) : Number.NaN;
}

// Seconds the cache may keep a response whose head did not refuse it; 0: not at all. The
// app's own duration stands for `public, max-age`; without it, s-maxage wins over max-age
// for a shared cache, and one that is not a number leaves the response stale (0).
function lifetime(status, facts, cacheDuration) {
  if (!CACHEABLE_STATUSES.includes(status) || facts.forbidden) return 0;
  if (cacheDuration != null) {
    const seconds = Math.floor(Number(cacheDuration));
    return seconds > 0 ? Math.min(seconds, MAX_DELTA_SECONDS) : 0; // NaN: false
  }
  if (!facts.public) return 0;
  const seconds = facts.sMaxage !== undefined ? facts.sMaxage : facts.maxAge;
  return seconds > 0 ? seconds : 0; // absent or NaN: false
}

module.exports = { cacheOffer, watchResponse, passUnanswered };
