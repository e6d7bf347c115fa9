import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digestOf, parseDigest } from './digest.js';

test('parses sha256 and sha512 digests', () => {
  const d = digestOf('hello');
  assert.equal(parseDigest(d).algorithm, 'sha256');
  assert.equal(parseDigest(digestOf('hello', 'sha512')).hex.length, 128);
});

test('rejects bad digests with DIGEST_INVALID', () => {
  for (const bad of ['sha256:abc', 'md5:' + 'a'.repeat(32), 'sha256:' + 'G'.repeat(64), 'nocolon', '']) {
    assert.throws(() => parseDigest(bad), { code: 'DIGEST_INVALID' }, bad);
  }
});
