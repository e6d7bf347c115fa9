import assert from 'node:assert/strict';
import { test } from 'node:test';
import { argon2Runs, hashSecret, passwordProblem, randomPassword, verifySecret } from './passwords.js';

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

test('checks of one secret at once share one argon2 run, and at most two runs go at once', async () => {
  const stored = await hashSecret('Harbor12345');
  const before = argon2Runs();
  const same = await Promise.all(Array.from({ length: 16 }, () => verifySecret(stored, 'Harbor12345')));
  assert.deepEqual(same, Array<boolean>(16).fill(true));
  assert.equal(argon2Runs().runs - before.runs, 1);
  const wrong = await Promise.all(Array.from({ length: 6 }, (_, i) => verifySecret(stored, `Wrong-${i}`)));
  assert.deepEqual(wrong, Array<boolean>(6).fill(false));
  assert.equal(argon2Runs().runs - before.runs, 7);
  assert.equal(argon2Runs().mostAtOnce, 2);
  // Once settled, the same check runs again (nothing is remembered here).
  assert.equal(await verifySecret(stored, 'Harbor12345'), true);
  assert.equal(argon2Runs().runs - before.runs, 8);
});
