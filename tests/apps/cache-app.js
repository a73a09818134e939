'use strict';
// The output cache's test app (tests/integration/cache.test.js): counts the requests it
// serves by target, so a test can tell how many reached a worker, and marks its answers
// cacheable or not by path:
//   /cached, /slow-cached?ms=N, /key/N: Cache-Control: public, max-age=60
//   /short: public, max-age=1        /private: private, max-age=60
//   /cookie: public, max-age=60 with Set-Cookie
//   /duration: res.cacheDuration = 60 (no Cache-Control)
//   /vary: public, max-age=60, Vary: Accept-Encoding; the body names the encoding asked
//   /count?target=T: how many requests for T this worker served (never cached)
//   ?maxage=N (any cached path): max-age=N instead
//   ?hold (any path): a GET is answered only when /release?target=T comes (T its target;
//   at most 10 s), so that a test decides when a worker's answer arrives
// Every body ends with " #<count>": a cached answer repeats the count of the one stored.
const http = require('node:http');
const { serve } = require('../../worker-sdk/node');

const seen = new Map();
const held = new Map();  // target → its answer, sent at /release

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  if (url.pathname === '/count') {
    res.end(String(seen.get(url.searchParams.get('target')) ?? 0));
    return;
  }
  if (url.pathname === '/release') {
    const send = held.get(url.searchParams.get('target'));
    held.delete(url.searchParams.get('target'));
    if (send) send();
    res.end(send ? 'released' : 'none');
    return;
  }
  const count = (seen.get(req.url) ?? 0) + 1;
  seen.set(req.url, count);
  const headers = { 'Content-Type': 'text/plain', 'X-Worker-Pid': String(process.pid) };
  let body = `${url.pathname} #${count}`;
  const path = url.pathname;
  if (path === '/cached' || path === '/slow-cached' || path.startsWith('/key/')) {
    headers['Cache-Control'] = 'public, max-age=60';
  } else if (path === '/short') {
    headers['Cache-Control'] = 'public, max-age=1';
  } else if (path === '/private') {
    headers['Cache-Control'] = 'private, max-age=60';
  } else if (path === '/cookie') {
    headers['Cache-Control'] = 'public, max-age=60';
    headers['Set-Cookie'] = 'session=1';
  } else if (path === '/duration') {
    res.cacheDuration = 60;
  } else if (path === '/vary') {
    headers['Cache-Control'] = 'public, max-age=60';
    headers.Vary = 'Accept-Encoding';
    body = `enc=${req.headers['accept-encoding'] ?? ''} #${count}`;
  }
  if (path.startsWith('/key/')) body += ' ' + 'x'.repeat(2000);
  if (url.searchParams.has('maxage') && headers['Cache-Control'])
    headers['Cache-Control'] = headers['Cache-Control'].replace(/max-age=\d+/, `max-age=${Number(url.searchParams.get('maxage'))}`);
  const send = () => {
    headers['Content-Length'] = Buffer.byteLength(body);  // the tests' raw clients read by length
    res.writeHead(200, headers);
    res.end(body);
  };
  const ms = Number(url.searchParams.get('ms') ?? 0);
  if (url.searchParams.has('hold') && req.method === 'GET') {
    const timer = setTimeout(send, 10000);
    held.set(req.url, () => {
      clearTimeout(timer);
      send();
    });
  } else if (ms > 0) setTimeout(send, Math.min(ms, 10000));
  else send();
});

serve(server);
