// HashThread (the proxy cache's hashes, beside the event loop): digests equal to node:crypto's over views on
// shared memory and over ordinary buffers, a shared chunk handed back only once hashed, several hashes at
// once kept apart, and a closed thread failing the hash in flight rather than giving a digest.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { HashThread } from './hash-thread.js';

function sharedBytes(length: number, seed: number): Buffer {
  const b = Buffer.from(new SharedArrayBuffer(length));
  for (let i = 0; i < length; i++) b[i] = (i * seed + 7) & 0xff;
  return b;
}

describe('HashThread', () => {
  const thread = new HashThread();
  after(() => thread.close());

  it('hashes views on shared memory and ordinary buffers in order, as node:crypto does', async () => {
    const slab = sharedBytes(3 << 20, 31);
    const other = sharedBytes(100_000, 13);
    const plain = Buffer.from('the bytes that came with the answer head');
    // Adjacent views (sent together), then a view elsewhere, then the rest of the first memory.
    const parts: Buffer[] = [plain];
    for (let at = 0; at < 2 << 20; at += 65_536) parts.push(slab.subarray(at, at + 65_536));
    parts.push(other.subarray(10, 99_000), slab.subarray(2 << 20, 3 << 20));
    const handedBack: number[] = [];
    const h = thread.hasher('sha256')!;
    parts.forEach((p, i) => h.update(p, () => handedBack.push(i)));
    // The ordinary buffer was copied: handed back at once; the shared views only once hashed.
    assert.equal(handedBack[0], 0);
    assert.ok(handedBack.length < parts.length);
    const hex = await h.digest();
    const expected = createHash('sha256');
    for (const p of parts) expected.update(p);
    assert.equal(hex, expected.digest('hex'));
    assert.deepEqual(handedBack, [...parts.keys()]);
    assert.equal(h.pending, 0);
  });

  it('keeps concurrent hashes apart (sha256 and sha512)', async () => {
    const a = sharedBytes(1 << 20, 3);
    const b = sharedBytes(1 << 20, 5);
    const ha = thread.hasher('sha256')!;
    const hb = thread.hasher('sha512')!;
    for (let i = 0; i < 4; i++) {
      ha.update(a.subarray(i << 18, (i + 1) << 18), () => undefined);
      hb.update(b.subarray(i << 18, (i + 1) << 18), () => undefined);
    }
    const [da, db] = await Promise.all([ha.digest(), hb.digest()]);
    assert.equal(da, createHash('sha256').update(a).digest('hex'));
    assert.equal(db, createHash('sha512').update(b).digest('hex'));
  });

  it('fails a hash in flight when the thread is closed, and hands its memory back', async () => {
    const other = new HashThread();
    const h = other.hasher('sha256')!;
    let back = false;
    h.update(sharedBytes(1 << 20, 9), () => (back = true));
    await other.close();
    assert.ok(back, 'the chunk was handed back');
    await assert.rejects(h.digest(), /hashing thread/);
  });
});
