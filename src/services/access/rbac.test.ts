import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  projectPolicies,
  projectRobotGrantable,
  publicProjectPolicies,
  roleById,
  rolesAllow,
  type ProjectRole,
} from './rbac.js';

// Harbor's matrix as the shared reference documents it (../shared beside the repository), read at test
// time so the code's table is checked against Harbor's, not against itself.
const here = dirname(fileURLToPath(import.meta.url));
const reference = join(here, '..', '..', '..', '..', 'shared', 'harbor-api', 'rbac.md');

function referenceMatrix(): Map<string, boolean[]> {
  const rows = new Map<string, boolean[]>();
  for (const line of readFileSync(reference, 'utf8').split('\n')) {
    const m = /^\| (\*\(project itself\)\*|`[a-z-]+`) \| (\w+) \|(.*)\|\s*$/.exec(line);
    if (!m) continue;
    const cells = m[3]!.split('|').map((c) => c.trim());
    if (cells.length !== 7) continue;
    const resource = m[1]!.startsWith('*') ? 'project' : m[1]!.replaceAll('`', '');
    rows.set(
      `${resource}:${m[2]}`,
      cells.map((c) => c === '✓'),
    );
  }
  return rows;
}

test('the project role matrix matches Harbor’s, row by row', (t) => {
  if (!existsSync(reference)) {
    if (process.env.BERTH_REQUIRE_ALL === '1') throw new Error(`missing ${reference}`);
    t.skip(`*** reference ${reference} not found ***`);
    return;
  }
  const rows = referenceMatrix();
  assert.equal(rows.size, 76, 'the reference lists 76 (resource, action) rows');
  const columns: (ProjectRole | 'public' | 'robot')[] = [
    'projectAdmin',
    'maintainer',
    'developer',
    'guest',
    'limitedGuest',
    'public',
    'robot',
  ];
  for (const [key, cells] of rows) {
    columns.forEach((column, i) => {
      const set =
        column === 'public'
          ? publicProjectPolicies
          : column === 'robot'
            ? projectRobotGrantable
            : projectPolicies[column];
      assert.equal(set.has(key), cells[i], `${column} ${key}`);
    });
  }
  // Policy counts Harbor's source gives.
  assert.equal(projectPolicies.projectAdmin.size, 75);
  assert.equal(projectPolicies.maintainer.size, 53);
  assert.equal(projectPolicies.developer.size, 36);
  assert.equal(projectPolicies.guest.size, 20);
  assert.equal(projectPolicies.limitedGuest.size, 14);
  assert.equal(publicProjectPolicies.size, 12);
  assert.equal(projectRobotGrantable.size, 70);
});

test('role ids are Harbor’s and roles combine as a union plus public access', () => {
  assert.deepEqual([1, 2, 3, 4, 5].map(roleById), [
    'projectAdmin',
    'developer',
    'guest',
    'maintainer',
    'limitedGuest',
  ]);
  assert.equal(rolesAllow(['guest'], false, 'repository', 'push'), false);
  assert.equal(rolesAllow(['guest', 'developer'], false, 'repository', 'push'), true);
  assert.equal(rolesAllow([], true, 'repository', 'pull'), true);
  assert.equal(rolesAllow([], true, 'repository', 'push'), false);
  assert.equal(rolesAllow(['limitedGuest'], false, 'member', 'list'), false);
  assert.equal(rolesAllow(['developer'], false, 'tag-retention', 'operate'), true);
});
