import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestStore, testDialects, type TestDatabase } from '../../../test/helpers/databases.js';
import { seedUser } from '../../../test/helpers/users.js';
import type { MetaStore } from '../../db/store.js';
import type { ProjectRow } from '../../db/tables.js';
import { AccessControl } from './access-control.js';
import { roleIds } from './rbac.js';
import type { RobotSubject, UserSubject } from './subject.js';

const now = new Date('2026-01-01T00:00:00Z').toISOString();
/** /v2 asks whether the caller may pull before it reveals a project. */
const registryProbe = { action: 'pull', resource: 'repository' };

function robot(namespace: string, ...access: [resource: string, action: string][]): RobotSubject {
  return {
    kind: 'robot',
    robotId: 1,
    name: `robot$${namespace}+ci`,
    level: 'project',
    grants: [{ namespace, access: access.map(([resource, action]) => ({ resource, action })) }],
  };
}

for (const dialect of testDialects()) {
  describe(`AccessControl.projectAccess on ${dialect}`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    let access: AccessControl;
    let secret: ProjectRow;
    let open: ProjectRow;
    let guest: UserSubject;

    before(async () => {
      ({ store, database } = await createTestStore(dialect));
      access = new AccessControl({ store });
      secret = await store.projects.ensure('secret', now);
      open = await store.projects.ensurePublic('open', now, null);
      guest = await seedUser(store, 'gina');
      await store.members.create(secret.id, 'u', guest.userId, roleIds.guest, now);
    });
    after(() => database.close());

    test('a robot holding push on a private project it may not read is refused as for an unknown project', async () => {
      const pusher = robot('secret', ['repository', 'push']);
      const unknown = await access.projectAccess(pusher, undefined, 'push', 'repository');
      assert.equal(unknown, 'hidden');
      assert.equal(await access.projectAccess(pusher, secret, 'push', 'repository'), unknown);
      assert.equal(await access.projectAccess(pusher, secret, 'delete', 'repository'), unknown);
    });

    test('a robot holding delete but not pull is refused on /v2 as for an unknown project', async () => {
      const deleter = robot('secret', ['repository', 'delete']);
      const unknown = await access.projectAccess(deleter, undefined, 'delete', 'repository', registryProbe);
      assert.equal(unknown, 'hidden');
      assert.equal(
        await access.projectAccess(deleter, secret, 'delete', 'repository', registryProbe),
        unknown,
      );
    });

    test('a robot that may see the project gets allowed or denied by the action', async () => {
      const pusher = robot('secret', ['project', 'read'], ['repository', 'push']);
      assert.equal(await access.projectAccess(pusher, secret, 'push', 'repository'), 'allowed');
      assert.equal(await access.projectAccess(pusher, secret, 'delete', 'repository'), 'denied');
      // On /v2, push implies pull, so the project is visible to a pusher.
      const v2Pusher = robot('secret', ['repository', 'push']);
      assert.equal(
        await access.projectAccess(v2Pusher, secret, 'push', 'repository', registryProbe),
        'allowed',
      );
    });

    test('a robot of another project sees a public project but may not change it', async () => {
      const other = robot('secret', ['repository', 'push']);
      assert.equal(await access.projectAccess(other, open, 'pull', 'repository', registryProbe), 'allowed');
      assert.equal(await access.projectAccess(other, open, 'push', 'repository', registryProbe), 'denied');
    });

    test('a user sees only the private projects it is a member of, and its role decides the action', async () => {
      assert.equal(await access.projectAccess(guest, secret, 'pull', 'repository', registryProbe), 'allowed');
      assert.equal(await access.projectAccess(guest, secret, 'push', 'repository', registryProbe), 'denied');
      const stranger: UserSubject = { ...guest, userId: guest.userId + 1000, username: 'stranger' };
      assert.equal(await access.projectAccess(stranger, secret, 'read', 'project'), 'hidden');
      assert.equal(await access.projectAccess({ kind: 'anonymous' }, secret, 'pull', 'repository'), 'hidden');
      assert.equal(await access.projectAccess({ kind: 'anonymous' }, open, 'push', 'repository'), 'denied');
    });
  });
}
