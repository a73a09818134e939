'use strict';
// The Node SDK's drain decisions (worker-sdk/node/drain.js) against the scenarios every
// SDK must pass (tests/fixtures/drain-scenarios.json, which tests/unit/test_drain_machine.cpp
// runs against the C++ SDK's DrainMachine). index.js carries out these effects.

const test = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { DrainMachine, RULES, rulesFromWelcome } = require('../../worker-sdk/node/drain');

const fixture = require(path.join(__dirname, '..', 'fixtures', 'drain-scenarios.json'));

// "finish 2", "arm_timer 9910", "exit": the fixture's spelling.
const spelled = (effects) =>
  effects.map((e) => (e.id !== undefined ? `${e.kind} ${e.id}` : e.at !== undefined ? `${e.kind} ${e.at}` : e.kind));

function step(machine, s) {
  switch (s.event) {
    case 'drain':
      return machine.drain(s.at, s.timeout_ms, s.handback);
    case 'signal':
      return machine.signal(s.at);
    case 'channel_lost':
      return machine.channelLost(s.at);
    case 'opened':
      return machine.opened(s.at, s.id, s.movable);
    case 'busy':
      return machine.busy(s.at, s.id);
    case 'idle':
      return machine.idle(s.at, s.id);
    case 'detached':
      return machine.detached(s.at, s.id);
    case 'closed':
      return machine.closed(s.at, s.id);
    case 'tick':
      return machine.tick(s.at);
    default:
      throw new Error(`unknown event ${s.event}`);
  }
}

test("the fixture's numbers are drain.js's", () => {
  assert.deepEqual(fixture.rules, {
    deadline_margin_ms: RULES.deadlineMarginMs,
    deadline_margin_divisor: RULES.deadlineMarginDivisor,
    idle_grace_ms: RULES.idleGraceMs,
  });
});

test('every scenario of tests/fixtures/drain-scenarios.json', () => {
  assert.ok(fixture.scenarios.length >= 10);
  for (const scenario of fixture.scenarios) {
    const machine = new DrainMachine(scenario.own_grace_ms);
    scenario.steps.forEach((s, index) => {
      assert.deepEqual(spelled(step(machine, s)), s.effects, `${scenario.name}, step ${index} (${s.event} at ${s.at})`);
    });
  }
});

test('the deadline leaves a margin before the master\'s kill, in whole milliseconds', () => {
  const m = new DrainMachine(5000);
  assert.equal(m.deadlineMs(30000), 29900);
  assert.equal(m.deadlineMs(500), 450);
  assert.equal(m.deadlineMs(9), 9);
  assert.equal(m.deadlineMs(1), 1);
  assert.equal(m.deadlineMs(undefined), 5000);
  assert.equal(new DrainMachine(Infinity).deadlineMs(0), Infinity);
  assert.equal(new DrainMachine(null).deadlineMs(0), null);
});

test('a drain with an infinite grace has no deadline', () => {
  const m = new DrainMachine(Infinity);
  m.opened(0, 1, true);
  assert.deepEqual(spelled(m.signal(0)), ['stop_accepting', 'finish 1']);
  assert.equal(m.nextWakeup(), null);
});

test("welcome's drain numbers: taken whole, or not at all (then the fallback stays)", () => {
  const rules = fixture.rules;
  assert.deepEqual(rulesFromWelcome(rules), RULES);
  const other = rulesFromWelcome({ deadline_margin_ms: 250, deadline_margin_divisor: 4, idle_grace_ms: 300 });
  assert.deepEqual(other, { deadlineMarginMs: 250, deadlineMarginDivisor: 4, idleGraceMs: 300 });
  assert.equal(new DrainMachine(1000, other).deadlineMs(400), 300); // min(250, 400 / 4)
  for (const bad of [undefined, null, 7, {}, { ...rules, idle_grace_ms: -1 }, { ...rules, deadline_margin_divisor: 0 },
    { ...rules, deadline_margin_ms: 1.5 }, { deadline_margin_ms: 100, idle_grace_ms: 100 }])
    assert.equal(rulesFromWelcome(bad), null, JSON.stringify(bad));
});
