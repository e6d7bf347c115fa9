import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WriteGate } from './write-gate.js';

/** A gate whose asks and give-backs are recorded, over a CPU clock the test moves. */
function gate(idleMs = 1000) {
  const log: string[] = [];
  const clock = { cpuMs: 0 };
  const g = new WriteGate({
    ask: () => log.push('ask'),
    done: () => log.push('done'),
    cpuMs: () => clock.cpuMs,
    idleMs,
  });
  return { g, log, clock };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('WriteGate', () => {
  test('ungoverned, a statement runs at once without asking', async () => {
    const { g, log } = gate();
    assert.equal(await g.run(async () => 7), 7);
    assert.deepEqual(log, []);
  });

  test('governed, a statement waits for the grant, then statements run under it until its CPU budget is used', async () => {
    const { g, log, clock } = gate();
    g.governed = true;
    const ran: number[] = [];
    const first = g.run(async () => ran.push(1));
    await tick();
    assert.deepEqual(log, ['ask']);
    assert.equal(ran.length, 0, 'not before the grant');
    g.granted(10);
    await first;
    await g.run(async () => {
      ran.push(2);
      clock.cpuMs += 12; // the budget is used up by this statement
    });
    assert.deepEqual(log, ['ask'], 'within the budget: no new ask');
    const third = g.run(async () => ran.push(3));
    await tick();
    assert.deepEqual(log, ['ask', 'done', 'ask'], 'the grant given back, and asked again');
    g.granted(10);
    await third;
    assert.deepEqual(ran, [1, 2, 3]);
  });

  test('statements run one at a time, in order, and a grant not used for idleMs is given back', async () => {
    const { g, log } = gate(5);
    g.governed = true;
    const order: string[] = [];
    const slow = g.run(async () => {
      order.push('a start');
      await new Promise((r) => setTimeout(r, 10));
      order.push('a end');
    });
    const fast = g.run(async () => order.push('b'));
    await tick();
    g.granted(1000);
    await Promise.all([slow, fast]);
    assert.deepEqual(order, ['a start', 'a end', 'b']);
    await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(log, ['ask', 'done'], 'given back when idle');
  });

  test('a failing statement does not block the next', async () => {
    const { g } = gate();
    g.governed = true;
    const bad = g.run(async () => {
      throw new Error('constraint');
    });
    await tick();
    g.granted(100);
    await assert.rejects(bad, /constraint/);
    assert.equal(await g.run(async () => 'next'), 'next');
  });
});
