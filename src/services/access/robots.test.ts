import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestStore, testDialects, type TestDatabase } from '../../../test/helpers/databases.js';
import { verifySecret } from '../../auth/passwords.js';
import type { MetaStore } from '../../db/store.js';
import type { Clock } from '../../lib/clock.js';
import { allQuery } from '../../lib/query.js';
import type { SettingsService } from '../settings/settings.js';
import { RobotService } from './robots.js';
import type { RobotSubject, UserSubject } from './subject.js';

const admin: UserSubject = { kind: 'user', userId: 1, username: 'admin', sysadmin: true, groupIds: [] };
const now = new Date('2026-01-01T00:00:00Z');
/** robot_token_duration: 30 days. */
const thirtyDays = {
  values: async () => ({ robotTokenDuration: 30 }),
} as unknown as Pick<SettingsService, 'values'>;
const clock: Clock = { now: () => now };
const pull = { resource: 'repository', action: 'pull' };
const push = { resource: 'repository', action: 'push' };

for (const dialect of testDialects()) {
  describe(`RobotService on ${dialect}`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    let robots: RobotService;

    before(async () => {
      ({ store, database } = await createTestStore(dialect));
      await store.projects.ensure('proj', now.toISOString());
      robots = new RobotService({ store, clock, prefix: 'robot$', settings: thirtyDays });
    });
    after(() => database.close());

    test('a project robot is named after its project, keeps only a hash of its secret and expires by default', async () => {
      const made = await robots.create(
        {
          name: 'ci',
          level: 'project',
          permissions: [{ kind: 'project', namespace: 'proj', access: [pull, push] }],
        },
        admin,
      );
      assert.equal(made.name, 'robot$proj+ci');
      assert.notEqual(made.row.secret_hash, made.secret);
      assert.ok(await verifySecret(made.row.secret_hash, made.secret));
      assert.equal(made.row.duration, 30);
      assert.equal(made.row.expires_at, Math.floor(now.getTime() / 1000) + 30 * 86_400);
      const view = await robots.get(made.id);
      assert.equal(view.fullName, 'robot$proj+ci');
      assert.deepEqual(view.permissions, [
        {
          kind: 'project',
          namespace: 'proj',
          access: [
            { ...pull, effect: 'allow' },
            { ...push, effect: 'allow' },
          ],
        },
      ]);
      const page = await robots.list('project', made.row.project_id!, allQuery());
      assert.deepEqual(
        page.items.map((r) => r.fullName),
        ['robot$proj+ci'],
      );
      await assert.rejects(
        robots.create(
          {
            name: 'ci',
            level: 'project',
            permissions: [{ kind: 'project', namespace: 'proj', access: [pull] }],
          },
          admin,
        ),
        { code: 'CONFLICT' },
      );
    });

    test('refuses bad names and unknown projects before writing anything', async () => {
      await assert.rejects(robots.create({ name: 'Bad+Name', level: 'system', permissions: [] }, admin), {
        code: 'BAD_REQUEST',
      });
      await assert.rejects(
        robots.create(
          {
            name: 'ghost',
            level: 'project',
            permissions: [{ kind: 'project', namespace: 'nope', access: [pull] }],
          },
          admin,
        ),
        { code: 'NOT_FOUND' },
      );
      const page = await robots.list('system', undefined, allQuery());
      assert.deepEqual(page.items, []);
    });

    test('a robot that creates robots may grant only what it holds', async () => {
      const creator: RobotSubject = {
        kind: 'robot',
        robotId: 999,
        name: 'robot$proj+maker',
        level: 'project',
        grants: [{ namespace: 'proj', access: [pull, { resource: 'robot', action: 'create' }] }],
      };
      const ok = await robots.create(
        {
          name: 'reader',
          level: 'project',
          permissions: [{ kind: 'project', namespace: 'proj', access: [pull] }],
        },
        creator,
      );
      assert.equal(ok.name, 'robot$proj+reader');
      await assert.rejects(
        robots.create(
          {
            name: 'writer',
            level: 'project',
            permissions: [{ kind: 'project', namespace: 'proj', access: [push] }],
          },
          creator,
        ),
        { code: 'FORBIDDEN', message: /may only grant what it holds/ },
      );
    });

    test('a refreshed secret replaces the old one; a deleted robot is gone', async () => {
      const made = await robots.create(
        {
          name: 'temp',
          level: 'project',
          permissions: [{ kind: 'project', namespace: 'proj', access: [pull] }],
        },
        admin,
      );
      const fresh = await robots.refreshSecret(made.id);
      assert.equal(fresh.generated, true);
      const row = (await robots.get(made.id)).row;
      assert.ok(await verifySecret(row.secret_hash, fresh.secret));
      assert.equal(await verifySecret(row.secret_hash, made.secret), false);
      await robots.delete(made.id);
      await assert.rejects(robots.get(made.id), { code: 'NOT_FOUND' });
    });
  });
}
