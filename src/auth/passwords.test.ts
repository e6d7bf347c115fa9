import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashSecret, passwordProblem, randomPassword, verifySecret } from './passwords.js';

test('hashes with argon2id and verifies only the right secret', async () => {
  const stored = await hashSecret('Harbor12345');
  assert.match(stored, /^\$argon2id\$/);
  assert.equal(await verifySecret(stored, 'Harbor12345'), true);
  assert.equal(await verifySecret(stored, 'harbor12345'), false);
  assert.equal(await verifySecret('not-a-hash', 'Harbor12345'), false);
});

test("applies Harbor's password rule", () => {
  assert.equal(passwordProblem('Harbor12345'), undefined);
  assert.match(passwordProblem('Hb1')!, /8 to 128/);
  assert.match(passwordProblem(`Ab1${'x'.repeat(126)}`)!, /8 to 128/);
  assert.match(passwordProblem('harbor12345')!, /upper-case/);
  assert.match(passwordProblem('HARBOR12345')!, /lower-case/);
  assert.match(passwordProblem('HarborHarbor')!, /digit/);
});

test('random passwords satisfy the rule and differ', () => {
  const a = randomPassword();
  assert.equal(passwordProblem(a), undefined);
  assert.notEqual(a, randomPassword());
});
