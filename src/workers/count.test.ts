import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memoryPerWorker, workerCount } from './count.js';

const GiB = 2 ** 30;

test('a number is taken as given', () => {
  assert.equal(workerCount(3, { cores: 1, memoryBytes: GiB }), 3);
});

test('auto is one worker per core when memory allows', () => {
  assert.equal(workerCount('auto', { cores: 8, memoryBytes: 16 * GiB }), 8);
  assert.equal(workerCount('auto', { cores: 2, memoryBytes: 24 * GiB }), 2);
});

test('auto keeps the workers within half the memory, and at least one', () => {
  assert.equal(workerCount('auto', { cores: 16, memoryBytes: 8 * memoryPerWorker }), 4);
  assert.equal(workerCount('auto', { cores: 4, memoryBytes: GiB / 4 }), 1);
});
