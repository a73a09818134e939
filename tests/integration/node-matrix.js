'use strict';
// The integration suite in the Node version matrix (tests/CMakeLists.txt). Loaded first
// (`node --require` this file `--test ...`; it reaches each test file's process, not the
// workers) with HANDOFF_NODE_MATRIX set:
//   - `skip` (integration-node20-N, integration-node22-N): the tests without-node-workers.txt
//     lists are reported as skipped, with the reason: they start no Node worker, so another
//     Node line proves nothing new, and they run once, in `integration-N`;
//   - `check` (integration-N, on the default Node): they run, and one that starts a
//     supervisor whose config names a Node worker fails: the list is wrong. A test the
//     list does not name, which starts supervisors whose configs name no Node worker,
//     fails too: it belongs on the list (it would run on every line and prove nothing new
//     on the others).
// Whole files of that list are left out by CMake itself; they are checked here too.
const fs = require('node:fs');
const path = require('node:path');
const Module = require('node:module');
const childProcess = require('node:child_process');

const mode = process.env.HANDOFF_NODE_MATRIX;
const LIST = path.join(__dirname, 'without-node-workers.txt');
const REASON = 'starts no Node worker: runs once, in `integration-N` (the default Node)';

// "FILE" -> every test of it; "FILE: NAME" -> that test.
function readList() {
  const files = new Set();
  const tests = new Set();
  for (const line of fs.readFileSync(LIST, 'utf8').split('\n')) {
    if (!line.trim() || line.startsWith('#')) continue;
    (line.includes(': ') ? tests : files).add(line);
  }
  return { files, tests };
}

// The config files of the supervisors started while a listed test runs, read again when
// it ends (a reload may have switched a config to a Node worker).
let watched = null;
function watchSupervisors() {
  const realSpawn = childProcess.spawn;
  childProcess.spawn = function spawn(command, args, ...rest) {
    const at = Array.isArray(args) ? args.indexOf('--config') : -1;
    if (watched && at >= 0) watched.add(args[at + 1]);
    return realSpawn.call(this, command, args, ...rest);
  };
}
// A config names a Node worker: this Node, or a worker started through node, npm or npx,
// or a script (a worker started by `npm start` runs whichever node the PATH gives).
const NODE_WORKER = /\bnode\b|\bnpm\b|\bnpx\b|\.[cm]?js\b/;
function namesNodeWorker(file) {
  try {
    const text = fs.readFileSync(file, 'utf8');
    return text.includes(process.execPath) || NODE_WORKER.test(text);
  } catch {
    return false; // removed with the test's directory: it was read when it ran
  }
}

function checked(name, fn) {
  if (fn.length > 1) throw new Error(`node-matrix.js: "${name}" takes a callback; only async tests can be checked`);
  return async function listedTest(t) {
    watched = new Set();
    const configs = watched;
    try {
      return await fn(t);
    } finally {
      watched = null;
      const withNode = [...configs].filter(namesNodeWorker);
      if (withNode.length)
        throw new Error(`tests/integration/without-node-workers.txt lists "${name}", but it starts a Node worker (${withNode[0]})`);
    }
  };
}

// An unlisted test (check mode): one that started supervisors, none of them with a Node
// worker, is missing from the list.
function unlisted(file, name, fn) {
  if (fn.length > 1) return fn; // a callback test: not watched
  return async function unlistedTest(t) {
    watched = new Set();
    const configs = watched;
    let passed = false;
    try {
      const result = await fn(t);
      passed = true;
      return result;
    } finally {
      watched = null;
      // Only a test that passed is judged: a failure keeps its own message.
      if (passed && configs.size > 0 && ![...configs].some(namesNodeWorker))
        throw new Error(`"${file}: ${name}" starts no Node worker: add it to tests/integration/without-node-workers.txt`);
    }
  };
}

function install() {
  const { files, tests } = readList();
  if (mode === 'check') watchSupervisors();
  const realLoad = Module._load;
  let wrapped = null;
  Module._load = function load(request, parent, ...rest) {
    const loaded = realLoad.call(this, request, parent, ...rest);
    if (request !== 'node:test' || !parent?.filename) return loaded;
    if (!wrapped) {
      const file = path.basename(parent.filename);
      wrapped = function test(name, options, fn) {
        if (typeof options === 'function') [options, fn] = [{}, options];
        if (!files.has(file) && !tests.has(`${file}: ${name}`))
          return loaded(name, options, mode === 'check' && fn ? unlisted(file, name, fn) : fn);
        if (mode === 'skip') return loaded(name, { ...options, skip: REASON }, fn);
        return loaded(name, options, checked(name, fn));
      };
      Object.assign(wrapped, loaded);
      wrapped.test = wrapped;
    }
    return wrapped;
  };
}

if (mode === 'skip' || mode === 'check') install();
else if (mode !== undefined) throw new Error(`HANDOFF_NODE_MATRIX=${mode}: expected skip or check`);
