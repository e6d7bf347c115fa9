import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestStore, testDialects, type TestDatabase } from '../../../test/helpers/databases.js';
import { seedUser } from '../../../test/helpers/users.js';
import type { MetaStore } from '../../db/store.js';
import { systemClock } from '../../lib/clock.js';
import { createLogger } from '../../lib/logger.js';
import { allQuery } from '../../lib/query.js';
import { AccessControl } from '../access/access-control.js';
import { roleIds } from '../access/rbac.js';
import type { RobotSubject, UserSubject } from '../access/subject.js';
import { EventBus } from '../events.js';
import { auditDomainEvents } from './audit-domain-events.js';
import { AuditLog } from './audit-log.js';

const entry = {
  operation: 'pull',
  resourceType: 'artifact',
  resource: 'lib/app:v1',
  username: 'admin',
  clientIp: '127.0.0.1',
  userAgent: 'test',
  success: true,
};

for (const dialect of testDialects()) {
  describe(`AuditLog on ${dialect}`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    before(async () => ({ store, database } = await createTestStore(dialect)));
    after(() => database.close());
    const auditLog = (maxBuffer?: number) =>
      new AuditLog({
        store,
        access: new AccessControl({ store }),
        clock: systemClock,
        log: createLogger('silent'),
        intervalMs: 60_000,
        ...(maxBuffer ? { maxBuffer } : {}),
      });

    test('record() only buffers; a flush writes the batch with projects resolved by name or id', async () => {
      const project = await store.projects.ensure('lib', '2024-01-01T00:00:00.000Z');
      const audit = auditLog();
      audit.record({ ...entry, project: { name: 'lib' } });
      audit.record({ ...entry, operation: 'delete', project: { id: project.id } });
      audit.record({ ...entry, resource: 'gone/app:v1', project: { name: 'gone' } });
      assert.equal((await store.audit.list('all', allQuery())).total, 0, 'nothing written before the flush');
      await audit.flush();
      const { rows } = await store.audit.list('all', allQuery());
      assert.equal(rows.length, 3);
      assert.deepEqual(
        rows.map((r) => [r.operation, r.resource, r.project_id]).sort(),
        [
          ['delete', 'lib/app:v1', project.id],
          ['pull', 'gone/app:v1', null],
          ['pull', 'lib/app:v1', project.id],
        ].sort(),
      );
      assert.equal((await store.audit.list({ projectIds: [project.id] }, allQuery())).total, 2);
      assert.equal((await store.audit.list({ projectIds: [] }, allQuery())).total, 0);
      await audit.stop();
    });

    test('the buffer is written when it fills, without waiting for the timer', async () => {
      const audit = auditLog(5);
      const before = (await store.audit.list('all', allQuery())).total;
      for (let i = 0; i < 5; i++) audit.record({ ...entry, resource: `fill/app:${i}` });
      const deadline = Date.now() + 10_000;
      while ((await store.audit.list('all', allQuery())).total < before + 5) {
        assert.ok(Date.now() < deadline, 'a full buffer was not written');
        await new Promise((r) => setTimeout(r, 20));
      }
      await audit.stop();
    });
    test('events a client caused become rows; the same events from jobs (no actor) do not', async () => {
      const audit = auditLog();
      const events = new EventBus((_name, err) => {
        throw err;
      });
      auditDomainEvents(events, audit);
      const actor = { username: 'dev', clientIp: '10.0.0.1', userAgent: 'cli/1' };
      const digest = 'sha256:' + 'e'.repeat(64);
      events.emit('ArtifactPushed', { repository: 'ev/app', digest, tag: 'v1', mediaType: 'x', actor });
      events.emit('ArtifactPushed', { repository: 'ev/app', digest, tag: null, mediaType: 'x', actor });
      events.emit('ArtifactPulled', { repository: 'ev/app', digest, tag: 'v1', actor });
      events.emit('TagCreated', { repository: 'ev/app', digest, tag: 'v2', mediaType: 'x', actor });
      events.emit('TagDeleted', { repository: 'ev/app', tag: 'v2', actor });
      events.emit('ArtifactDeleted', { repository: 'ev/app', digest, actor });
      events.emit('RepositoryDeleted', { repository: 'ev/app', artifacts: 1, actor });
      // Replication, retention and GC change things without a client: nothing is recorded for them.
      events.emit('ArtifactPushed', { repository: 'ev/app', digest, tag: 'job', mediaType: 'x' });
      events.emit('ArtifactDeleted', { repository: 'ev/app', digest });
      await audit.flush();
      const { rows } = await store.audit.list('all', {
        ...allQuery(),
        keywords: { username: { kind: 'exact', value: 'dev' } },
      });
      assert.deepEqual(
        rows
          .map((r) => `${r.operation} ${r.resource_type} ${r.resource} ${r.client_ip} ${r.user_agent}`)
          .sort(),
        [
          `create artifact ev/app:v1 10.0.0.1 cli/1`,
          `create artifact ev/app@${digest} 10.0.0.1 cli/1`,
          `pull artifact ev/app:v1 10.0.0.1 cli/1`,
          `create tag ev/app:v2 10.0.0.1 cli/1`,
          `delete tag ev/app:v2 10.0.0.1 cli/1`,
          `delete artifact ev/app@${digest} 10.0.0.1 cli/1`,
          `delete repository ev/app 10.0.0.1 cli/1`,
        ].sort(),
      );
      await audit.stop();
    });

    test('who reads which rows: admins all, project admins their projects, developers and strangers none', async () => {
      const now = '2024-01-01T00:00:00.000Z';
      const mine = await store.projects.ensure('scoped-mine', now);
      const other = await store.projects.ensure('scoped-other', now);
      const audit = auditLog();
      audit.record({ ...entry, username: 'scoper', project: { id: mine.id } });
      audit.record({ ...entry, username: 'scoper', project: { id: other.id } });
      await audit.flush();
      const user = async (username: string, role?: number): Promise<UserSubject> => {
        const subject = await seedUser(store, username);
        if (role !== undefined) await store.members.create(mine.id, 'u', subject.userId, role, now);
        return subject;
      };
      const query = { ...allQuery(), keywords: { username: { kind: 'exact' as const, value: 'scoper' } } };
      const seen = async (subject: UserSubject | RobotSubject) =>
        (await audit.listFor(subject, query)).rows.map((r) => r.project_id).sort();
      const admin: UserSubject = { kind: 'user', userId: 1, username: 'admin', sysadmin: true, groupIds: [] };
      assert.deepEqual(await seen(admin), [mine.id, other.id].sort());
      assert.deepEqual(await seen(await user('scoped-owner', roleIds.projectAdmin)), [mine.id]);
      assert.deepEqual(await seen(await user('scoped-dev', roleIds.developer)), []);
      assert.deepEqual(await seen(await user('scoped-stranger')), []);
      const auditor: RobotSubject = {
        kind: 'robot',
        robotId: 9,
        name: 'robot$auditor',
        level: 'system',
        grants: [{ namespace: '/', access: [{ resource: 'audit-log', action: 'list' }] }],
      };
      assert.deepEqual(await seen(auditor), [mine.id, other.id].sort());
      assert.deepEqual(
        (await audit.listOfProject(other.id, query)).rows.map((r) => r.project_id),
        [other.id],
      );
    });
  });
}
