import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../lib/errors.js';
import { UpstreamSlots } from './upstream-slots.js';

describe('UpstreamSlots (max_upstream_conn)', () => {
  test('refuses a download beyond the limit with 429, per project, until a slot is given back', async () => {
    const slots = new UpstreamSlots();
    const a = await slots.take(1, 2);
    await slots.take(1, 2);
    await assert.rejects(
      slots.take(1, 2),
      (err: unknown) =>
        err instanceof AppError &&
        err.code === 'TOOMANYREQUESTS' &&
        err.message === 'too many requests to upstream registry',
    );
    await slots.take(2, 2);
    a();
    a();
    assert.equal(slots.inUse(1), 1, 'giving a slot back twice frees it once');
    await slots.take(1, 2);
    assert.equal(slots.inUse(1), 2);
  });

  test('no limit when it is 0 or -1; a job waits for a slot instead of failing', async () => {
    const slots = new UpstreamSlots();
    for (const limit of [0, -1]) await slots.take(1, limit);
    assert.equal(slots.inUse(1), 0);
    const held = await slots.take(1, 1);
    let waited = false;
    const queued = slots.take(1, 1, true).then((release) => {
      waited = true;
      return release;
    });
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(waited, false);
    held();
    (await queued)();
    assert.equal(waited, true);
    assert.equal(slots.inUse(1), 0);
  });
});
