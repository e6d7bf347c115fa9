import assert from 'node:assert/strict';
import { test } from 'node:test';
import { TargetGate } from './target-gate.js';

test('a batch of 100 requests waiting on one signal: served in order, the rest answered false on abort, one listener and no warning', async () => {
  const warnings: Error[] = [];
  const onWarning = (w: Error) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    const gate = new TargetGate(2);
    const a = 'http://127.0.0.1:9/a';
    assert.equal(gate.acquire(a), true);
    assert.equal(gate.acquire(a), true);
    const batch = new AbortController();
    const other = new AbortController();
    const outcomes: (boolean | undefined)[] = Array.from({ length: 100 }, () => undefined);
    const waits = outcomes.map((_, i) =>
      Promise.resolve(gate.acquire(a, batch.signal)).then((took) => (outcomes[i] = took)),
    );
    // Another batch's request, queued behind them on the same target.
    const later = Promise.resolve(gate.acquire(a, other.signal));
    gate.release(a);
    gate.release(a, false);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(outcomes.slice(0, 3), [true, true, undefined], 'slots pass in order');
    batch.abort();
    await Promise.all(waits);
    assert.equal(outcomes.filter((o) => o === false).length, 98);
    // The other batch's request was not dropped: the next slot is its.
    gate.release(a);
    assert.equal(await later, true);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(warnings, [], 'no MaxListenersExceededWarning');
  } finally {
    process.off('warning', onWarning);
  }
});

test('a signal already aborted takes no slot; a request without a signal waits until a release', async () => {
  const gate = new TargetGate(1);
  const a = 'http://127.0.0.1:9/a';
  assert.equal(gate.acquire(a), true);
  assert.equal(gate.acquire(a, AbortSignal.abort()), false);
  let took: boolean | undefined;
  const waiting = Promise.resolve(gate.acquire(a)).then((t) => (took = t));
  await new Promise((r) => setImmediate(r));
  assert.equal(took, undefined);
  gate.release(a);
  await waiting;
  assert.equal(took, true);
  gate.release(a);
  assert.equal(gate.acquire(a), true, 'the slot is free again');
});
