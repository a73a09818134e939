'use strict';
// The app's `http:` settings as the master's `welcome` carries them (its `http` object),
// and where each goes in Node: an http.Server property, or (maxBodySize) the SDK's own
// check. The names are the master's (protocols/http_settings.h); `config` is the key in
// cluster.yaml, named when a program's own value is replaced. tests/node/http-settings.test.js
// checks this list against tests/fixtures/http-settings.json, which a unit test checks
// against the master's table, so a setting renamed or added there fails here.
const HTTP_SETTINGS = Object.freeze([
  { property: 'keepAliveTimeout', config: 'keep_alive_timeout', wire: 'keep_alive_timeout_ms', unit: 'milliseconds' },
  { property: 'headersTimeout', config: 'headers_timeout', wire: 'headers_timeout_ms', unit: 'milliseconds' },
  { property: 'requestTimeout', config: 'request_timeout', wire: 'request_timeout_ms', unit: 'milliseconds' },
  { property: 'maxRequestsPerSocket', config: 'max_requests_per_socket', wire: 'max_requests_per_socket', unit: 'count' },
  { property: 'maxHeaderSize', config: 'max_header_size', wire: 'max_header_size', unit: 'bytes' },
  { property: 'maxBodySize', config: 'max_body_size', wire: 'max_body_size', unit: 'bytes', sdk: true },
]);

module.exports = { HTTP_SETTINGS };
