import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AppError } from '../../../lib/errors.js';
import {
  assertStorageLimit,
  formatBytes,
  maxStorageLimit,
  overflow,
  quotaExceededMessage,
} from './storage-limit.js';

describe('storage limit rule', () => {
  test('accepts -1 and 1 byte to 1024 TiB, refuses the rest with the field named', () => {
    assert.equal(assertStorageLimit('storage_limit', -1), -1);
    assert.equal(assertStorageLimit('storage_limit', 1), 1);
    assert.equal(assertStorageLimit('storage_limit', maxStorageLimit), maxStorageLimit);
    for (const bad of [0, -2, -1024, 1.5, '10', null, maxStorageLimit + 1024]) {
      assert.throws(
        () => assertStorageLimit('hard.storage', bad),
        (err: unknown) =>
          err instanceof AppError && err.code === 'BAD_REQUEST' && /^hard\.storage/.test(err.message),
      );
    }
  });

  test('prints sizes as Harbor does', () => {
    assert.equal(formatBytes(0), '0 B');
    assert.equal(formatBytes(1023), '1023 B');
    assert.equal(formatBytes(1024), '1.0 KiB');
    assert.equal(formatBytes(1536 * 1024), '1.5 MiB');
    assert.equal(formatBytes(5 * 1024 ** 3), '5.0 GiB');
  });

  test('a push overflows only a limited quota, and only past the limit', () => {
    assert.equal(overflow(-1, 10, 1e12), undefined);
    assert.equal(overflow(100, 60, 40), undefined);
    assert.deepEqual(overflow(100, 60, 41), { newUsed: 101 });
    assert.equal(overflow(100, 200, 0), undefined);
  });

  test("the refusal is Harbor's sentence, naming usage, limit and project", () => {
    assert.equal(
      quotaExceededMessage('team', 2048, 1024, 1536),
      'Quota exceeded when processing the request of adding 1.5 KiB of storage resource, which when ' +
        'updated to current usage of 1.0 KiB will exceed the configured upper limit of 2.0 KiB of project team.',
    );
  });
});
