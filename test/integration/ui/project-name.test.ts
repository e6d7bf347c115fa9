// The create-project dialog's live checks (web/src/pages/projects/project-name.ts) agree with Harbor's
// project name rule and storage-limit units.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { projectNameProblem, storageLimitBytes } from '../../../web/src/pages/projects/project-name.js';

describe('project name check in the UI', () => {
  test('accepts the names Harbor accepts', () => {
    for (const name of ['a', 'library', 'team-a', 'team_a.b', 'x1-2_3.4', 'a'.repeat(255)])
      assert.equal(projectNameProblem(name), null, name);
  });

  test('explains what is wrong with a bad name', () => {
    assert.equal(projectNameProblem(''), 'A name is required');
    assert.equal(projectNameProblem('Team'), 'Use lower-case letters only');
    assert.equal(projectNameProblem('-team'), 'Start with a letter or digit');
    assert.equal(projectNameProblem('team-'), 'End with a letter or digit');
    assert.match(projectNameProblem('a--b') ?? '', /single/);
    assert.match(projectNameProblem('a b') ?? '', /single/);
    assert.equal(projectNameProblem('a'.repeat(256)), 'At most 255 characters');
  });

  test('storage limits: -1 or empty is unlimited, units multiply, junk is refused', () => {
    assert.equal(storageLimitBytes('', 'GiB'), -1);
    assert.equal(storageLimitBytes('-1', 'MiB'), -1);
    assert.equal(storageLimitBytes('10', 'MiB'), 10 * 1024 ** 2);
    assert.equal(storageLimitBytes('2', 'TiB'), 2 * 1024 ** 4);
    assert.equal(storageLimitBytes('1.5', 'GiB'), undefined);
    assert.equal(storageLimitBytes('0', 'GiB'), undefined);
    assert.equal(storageLimitBytes('ten', 'GiB'), undefined);
  });
});
