import assert from 'node:assert/strict';
import { test } from 'node:test';
import { digestOf, isDigestString, parseDigest } from './digest.js';

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

test('digestOf matches the published sha256 and sha512 of the empty string', () => {
  assert.equal(digestOf(''), 'sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.equal(
    digestOf(Buffer.alloc(0), 'sha512'),
    'sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e',
  );
});

test('isDigestString checks grammar only; parseDigest also checks algorithm and length', () => {
  assert.ok(isDigestString('sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564'));
  assert.ok(isDigestString('multihash+base58:QmRZxt2b1FVZPNqd8hsiykDL3TdBDeTSPX9Kv46HmX4Gx8'));
  assert.throws(() => parseDigest('sha256+b64u:LCa0a2j_xo_5m0U8HTBBNBNCLXBkg7-g-YpeiGJm564'), {
    code: 'DIGEST_INVALID',
  });
  for (const bad of ['sha256:', ':abc', 'SHA256:abc', 'sha256:abc def', 'sha256::abc']) {
    assert.equal(isDigestString(bad), false, bad);
  }
  assert.throws(() => parseDigest(`sha512:${'a'.repeat(64)}`), { code: 'DIGEST_INVALID' });
  assert.throws(() => parseDigest(`sha256:${'a'.repeat(128)}`), { code: 'DIGEST_INVALID' });
});
