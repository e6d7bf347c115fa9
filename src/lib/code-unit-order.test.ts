import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareCodeUnits } from './code-unit-order.js';

test('compareCodeUnits orders as the default sort does (code units, not the locale)', () => {
  const xs = ['b', 'B', 'a', 'CVE-2024-2', 'CVE-2024-10', 'é', 'e', 'a'];
  assert.deepEqual([...xs].sort(compareCodeUnits), [...xs].sort());
  assert.deepEqual(['b', 'B', 'a'].sort(compareCodeUnits), ['B', 'a', 'b']);
  assert.equal(compareCodeUnits('sha256:ab', 'sha256:ab'), 0);
  assert.ok(compareCodeUnits('2026-12-07T05:00:00Z', '2026-12-07T06:00:00Z') < 0);
});
