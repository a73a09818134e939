'use strict';
// index.d.ts, as installed from the build's tarball, against a TypeScript consumer
// (consumer/: module nodenext, CommonJS and ES module files, Fastify's own types):
// tsc --strict passes (so every line after a @ts-expect-error in api.ts is an error: an
// unused one fails the compile), and the compiled apps run (standalone) and answer. TypeScript, @types/node and Fastify come from
// tests/apps (`npm ci` there); nothing is fetched.

const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');
const { ROOT, installTarball } = require('./install');

const APPS_MODULES = path.join(ROOT, 'tests', 'apps', 'node_modules');
const CONSUMER = path.join(__dirname, 'consumer');
const WAIT_MS = 20000;

// The installed tarball, the consumer's sources, and the tools from tests/apps.
function project() {
  assert.ok(fs.existsSync(path.join(APPS_MODULES, 'typescript')), `${APPS_MODULES}/typescript is missing: run \`cd tests/apps && npm ci\``);
  const dir = installTarball();
  for (const file of fs.readdirSync(CONSUMER)) fs.copyFileSync(path.join(CONSUMER, file), path.join(dir, file));
  for (const name of ['typescript', '@types/node', 'fastify']) {
    const link = path.join(dir, 'node_modules', name);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(path.join(APPS_MODULES, name), link, 'dir');
  }
  return dir;
}

// Starts a compiled app alone on a free port; resolves with the answer to GET /.
function runAndAsk(t, dir, file) {
  const child = spawn(process.execPath, [file], {
    cwd: dir,
    env: { PATH: process.env.PATH, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => child.kill('SIGKILL'));
  let output = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${file}: no answer in ${WAIT_MS} ms; output:\n${output}`)), WAIT_MS);
    child.on('exit', (code) => reject(new Error(`${file} exited (${code}):\n${output}`)));
    child.stderr.on('data', (d) => (output += d));
    child.stdout.on('data', (d) => {
      output += d;
      const port = /listening on port (\d+)/.exec(output)?.[1];
      if (!port) return;
      http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
        let body = '';
        res.on('data', (c) => (body += c));
        res.on('end', () => {
          clearTimeout(timer);
          resolve({ status: res.statusCode, body });
        });
      }).on('error', reject);
    });
  });
}

test('tsc --strict (module nodenext) checks a consumer of the installed package, and its apps run', async (t) => {
  const dir = project();
  const tsc = path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', dir], { cwd: dir, encoding: 'utf8', stdio: 'pipe' });
  } catch (error) {
    assert.fail(`tsc failed:\n${error.stdout}${error.stderr}`);
  }

  const cjs = await runAndAsk(t, dir, path.join('dist', 'app.js'));
  assert.equal(cjs.status, 200);
  assert.equal(cjs.body, 'Hello from standalone/0\n');
  const esm = await runAndAsk(t, dir, path.join('dist', 'fastify-app.mjs'));
  assert.equal(esm.status, 200);
  assert.deepEqual(JSON.parse(esm.body), { hello: 'standalone', slot: 0 });
});
