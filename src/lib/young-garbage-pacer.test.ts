import assert from 'node:assert/strict';
import { test } from 'node:test';
import { collectYoungGarbage } from './collect-garbage.js';
import { YoungGarbagePacer } from './young-garbage-pacer.js';

test('collects once per `everyBytes` counted, carrying nothing over', () => {
  let collections = 0;
  const pacer = new YoungGarbagePacer(1000, () => collections++);
  for (let i = 0; i < 9; i++) pacer.add(100);
  assert.equal(collections, 0);
  pacer.add(100);
  assert.equal(collections, 1);
  pacer.add(999);
  assert.equal(collections, 1);
  pacer.add(5000);
  assert.equal(collections, 2, 'one collection however far past the mark');
});

test('a young-generation collection frees the memory of buffers that died young', async () => {
  const arrayBufferMiB = () => process.memoryUsage().arrayBuffers / 2 ** 20;
  const before = arrayBufferMiB();
  // 24 MiB of fresh buffers, dropped at once: below V8's own 32 MiB mark for a collection, so nothing
  // else would free them now.
  let held: Buffer[] | undefined = Array.from({ length: 24 }, () => Buffer.allocUnsafeSlow(2 ** 20).fill(1));
  assert.ok(arrayBufferMiB() >= before + 24);
  held = undefined;
  collectYoungGarbage();
  // V8 frees array buffers' memory on a helper thread after the collection: a few event-loop turns.
  for (let turn = 0; turn < 200 && arrayBufferMiB() > before + 8; turn++)
    await new Promise((r) => setTimeout(r, 5));
  assert.ok(arrayBufferMiB() <= before + 8, `${arrayBufferMiB().toFixed(1)} MiB still held`);
  assert.equal(held, undefined);
});
