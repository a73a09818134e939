'use strict';
// How a worker stops, as a pure state machine: events in, effects out, time passed in
// (milliseconds). No sockets, no timers: index.js feeds it and carries out its effects.
// The same machine as the C++ SDK's (worker-sdk/cpp/include/handoff/drain_machine.h,
// where its rules are written out); tests/fixtures/drain-scenarios.json holds the
// scenarios both pass.
//
//   serving -> draining -> stopped   (a graceful end: nothing left)
//   serving/draining -> stopped      (`exit`: the deadline, a second signal)
//
// Effects, each { kind, id?, at? }: stop_accepting, finish (serve connection `id` to the
// end, with Connection: close), hand_back (`id`, an empty head), close (`id`, idle for
// the grace), arm_timer (call tick() at `at`), exit (close everything now), stopped.

// The drain's numbers: the master sends its own in `welcome` (`drain`, from
// protocols/drain_rules.h, the C++ SDK's too), and index.js gives them to the machine.
// These are the fallback for a worker without them (standalone, a signal before the
// welcome, an older master); tests/fixtures/drain-scenarios.json names the values, and
// both SDKs' tests check them.
const RULES = Object.freeze({
  deadlineMarginMs: 100, // at most this much before the master's kill...
  deadlineMarginDivisor: 10, // ...and at most this fraction of its timeout
  idleGraceMs: 100, // an idle keep-alive connection closes after this
});

class DrainMachine {
  // ownGraceMs: how long a drain the master did not time may run (null: unbounded).
  constructor(ownGraceMs, rules = RULES) {
    this.ownGraceMs = ownGraceMs ?? null;
    this.rules = rules;
    this.phase = 'serving';
    this.handback = false;
    this.signals = 0;
    this.deadline = null;
    this.armed = null;
    // id -> { activity: 'busy' | 'idle' | 'detached' | 'leaving', movable, idleSince, quiet }
    this.connections = new Map();
  }

  get draining() {
    return this.phase === 'draining';
  }

  // Integer milliseconds, as the C++ SDK counts them.
  deadlineMs(timeoutMs) {
    if (!(timeoutMs > 0)) return this.ownGraceMs;
    const margin = Math.min(this.rules.deadlineMarginMs, Math.floor(timeoutMs / this.rules.deadlineMarginDivisor));
    return Math.max(1, timeoutMs - margin);
  }

  // ---- events ----

  drain(now, timeoutMs, handback) {
    const out = [];
    if (this.phase === 'serving') this.#start(now, this.deadlineMs(timeoutMs), handback, out);
    return this.#done(out);
  }

  signal(now) {
    if (this.phase === 'stopped') return [];
    if (++this.signals >= 2) return this.#exit();
    const out = [];
    if (this.phase === 'serving') this.#start(now, this.ownGraceMs, false, out);
    return this.#done(out);
  }

  channelLost(now) {
    // Nothing can go back now; with handback no idle connection waited (each went back).
    this.handback = false;
    const out = [];
    if (this.phase === 'serving') this.#start(now, this.ownGraceMs, false, out);
    return this.#done(out);
  }

  opened(now, id, movable) {
    if (this.phase === 'stopped') return [{ kind: 'close', id }];
    // A fresh connection is served: busy until its first response.
    this.connections.set(id, { activity: 'busy', movable: Boolean(movable), idleSince: 0, quiet: false });
    // Sent before the master's `drain` reached us: served all the same, with close.
    return this.#done(this.phase === 'draining' ? [{ kind: 'finish', id }] : []);
  }

  busy(now, id) {
    const conn = this.connections.get(id);
    if (!conn || conn.activity !== 'idle') return [];
    conn.activity = 'busy';
    conn.quiet = false;
    return this.#done([]);
  }

  // Repeats are ignored: the grace counts from the first.
  idle(now, id) {
    const conn = this.connections.get(id);
    if (!conn || conn.activity !== 'busy') return [];
    conn.activity = 'idle';
    conn.idleSince = now;
    const out = [];
    if (this.phase === 'draining') this.#settleIdle(id, conn, out);
    return this.#done(out);
  }

  detached(now, id) {
    const conn = this.connections.get(id);
    if (!conn || conn.activity === 'leaving') return [];
    conn.activity = 'detached';
    conn.quiet = false;
    return this.#done([]);
  }

  closed(now, id) {
    if (!this.connections.delete(id)) return [];
    const out = [];
    this.#finishIfDone(out);
    return this.#done(out);
  }

  tick(now) {
    if (this.phase !== 'draining') return [];
    if (this.deadline !== null && now >= this.deadline) return this.#exit();
    const out = [];
    // Oldest idle first, ties by id: the C++ machine's order.
    const due = [];
    for (const [id, conn] of this.connections) {
      if (conn.quiet && conn.idleSince + this.rules.idleGraceMs <= now) due.push([conn.idleSince, id, conn]);
    }
    due.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    for (const [, id, conn] of due) {
      out.push({ kind: 'close', id });
      conn.activity = 'leaving';
      conn.quiet = false;
    }
    return this.#done(out);
  }

  // ---- queries ----

  nextWakeup() {
    if (this.phase !== 'draining') return null;
    let next = this.deadline;
    for (const conn of this.connections.values()) {
      if (!conn.quiet) continue;
      const at = conn.idleSince + this.rules.idleGraceMs;
      if (next === null || at < next) next = at;
    }
    return next;
  }

  // ---- inside ----

  #start(now, deadlineMs, handback, out) {
    this.phase = 'draining';
    this.handback = handback;
    if (deadlineMs !== null && deadlineMs !== undefined && Number.isFinite(deadlineMs)) this.deadline = now + deadlineMs;
    out.push({ kind: 'stop_accepting' });
    for (const id of [...this.connections.keys()].sort((a, b) => a - b)) {
      const conn = this.connections.get(id);
      if (conn.activity === 'busy') {
        out.push({ kind: 'finish', id });
      } else if (conn.activity === 'idle') {
        // Kept, a request that still comes within the grace is answered with close.
        if (!(handback && conn.movable)) out.push({ kind: 'finish', id });
        this.#settleIdle(id, conn, out);
      }
    }
    this.#finishIfDone(out);
  }

  // An idle connection while draining: back to the master, or onto the grace clock.
  #settleIdle(id, conn, out) {
    if (this.handback && conn.movable) {
      out.push({ kind: 'hand_back', id });
      conn.activity = 'leaving'; // counts until closed()
      conn.quiet = false;
      return;
    }
    conn.quiet = true;
  }

  #finishIfDone(out) {
    if (this.phase !== 'draining' || this.connections.size > 0) return;
    this.phase = 'stopped';
    out.push({ kind: 'stopped' });
  }

  #exit() {
    this.phase = 'stopped';
    this.connections.clear();
    return [{ kind: 'exit' }];
  }

  // Appends arm_timer when the next wake-up moved.
  #done(out) {
    const next = this.nextWakeup();
    if (next !== null && next !== this.armed) out.push({ kind: 'arm_timer', at: next });
    this.armed = next;
    return out;
  }
}

// Welcome's `drain` object as rules; null when absent or not whole (then the fallback
// stays): all three integers, margin and grace from 0, the divisor from 1.
function rulesFromWelcome(drain) {
  if (drain === null || typeof drain !== 'object') return null;
  const { deadline_margin_ms: marginMs, deadline_margin_divisor: divisor, idle_grace_ms: graceMs } = drain;
  const whole = (v, min) => Number.isSafeInteger(v) && v >= min;
  if (!whole(marginMs, 0) || !whole(divisor, 1) || !whole(graceMs, 0)) return null;
  return Object.freeze({ deadlineMarginMs: marginMs, deadlineMarginDivisor: divisor, idleGraceMs: graceMs });
}

module.exports = { DrainMachine, RULES, rulesFromWelcome };
