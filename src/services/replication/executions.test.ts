import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createTestStore, testDialects, type TestDatabase } from '../../../test/helpers/databases.js';
import type { MetaStore } from '../../db/store.js';
import { CronScheduler } from '../../jobs/cron.js';
import { PermanentJobError, type JobContext } from '../../jobs/kind.js';
import {
  replicationCopyJob,
  replicationPlanJob,
  type ReplicationTask,
} from '../../jobs/kinds/replication.js';
import { JobQueue } from '../../jobs/queue.js';
import { systemClock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { createLogger } from '../../lib/logger.js';
import type { RemoteArtifact, RemoteRegistry } from '../../remotes/adapter.js';
import { EventBus } from '../events.js';
import { ReplicationExecutions } from './executions.js';
import { ReplicationPolicies, type PolicyInput } from './policies.js';
import { RegistryEndpoints } from './registry-endpoints.js';

const log = createLogger('silent');
const clock = systemClock;

/**
 * The local side of a push-based policy, as the planner sees it: repositories and their artifacts. The
 * only fake here, at the edge where a real policy would list a registry.
 */
function source(listing: Record<string, RemoteArtifact[]> | Error): RemoteRegistry {
  const fake: Partial<RemoteRegistry> = {
    name: 'local',
    async listRepositories(options) {
      if (listing instanceof Error) throw listing;
      return Object.keys(listing).filter((r) => options?.match?.(r) ?? true);
    },
    async listArtifacts(repository) {
      if (listing instanceof Error) throw listing;
      return listing[repository] ?? [];
    },
    async close() {},
  };
  return fake as RemoteRegistry;
}

function jobContext(attempt = 1): JobContext & { lines: string[] } {
  const lines: string[] = [];
  return {
    jobId: 0,
    attempt,
    maxAttempts: 3,
    executionId: null,
    signal: new AbortController().signal,
    lines,
    async log(line) {
      lines.push(line);
    },
    onOutcome() {},
  };
}

for (const dialect of testDialects()) {
  describe(`ReplicationExecutions on ${dialect}`, () => {
    let store: MetaStore;
    let database: TestDatabase;
    let policies: ReplicationPolicies;
    let local: RemoteRegistry;
    let executions: ReplicationExecutions;
    let destination: number;
    let seq = 0;

    before(async () => {
      ({ store, database } = await createTestStore(dialect));
      const queue = new JobQueue({ store, clock });
      const scheduler = new CronScheduler({ store, queue, clock, log });
      const registries = new RegistryEndpoints({
        store,
        clock,
        secrets: { seal: (s) => s, open: (s) => s },
      });
      policies = new ReplicationPolicies({
        store,
        clock,
        registries,
        scheduler,
        localView: () => ({}) as never,
      });
      executions = new ReplicationExecutions({
        store,
        clock,
        log,
        queue,
        registries,
        policies,
        local: () => local,
        events: new EventBus(() => {}),
      });
      queue.register(replicationPlanJob(executions));
      queue.register(replicationCopyJob(executions));
      // Never contacted: planning a push only lists the local side.
      destination = (
        await registries.create({ name: 'mirror', type: 'docker-registry', url: 'http://127.0.0.1:9' })
      ).id;
    });
    after(() => database.close());

    /** A push-based policy from this Berth to the mirror. */
    function policy(input: Partial<PolicyInput> = {}) {
      return policies.create({
        name: `policy-${++seq}`,
        dest_registry: { id: destination },
        dest_namespace: 'mirror',
        ...input,
      });
    }

    async function executionsOf(policyId: number) {
      return (await store.replication.listExecutions({ policyId, offset: 0, limit: 100 })).rows;
    }

    async function tasksOf(executionId: number) {
      const { rows } = await store.replication.listTasks(executionId, { offset: 0, limit: 100 });
      return rows.map((j) => ({
        kind: j.kind,
        status: j.status,
        task: JSON.parse(j.payload) as ReplicationTask,
      }));
    }

    test('starting a disabled policy is refused and writes nothing', async () => {
      const p = await policy({ enabled: false });
      await assert.rejects(executions.start(p.id, 'MANUAL'), (err: AppError) => err.code === 'PRECONDITION');
      assert.deepEqual(await executionsOf(p.id), []);
    });

    test('a start writes an InProgress execution and its plan job together', async () => {
      const p = await policy();
      const plans = async () =>
        (await store.jobMonitor.queueFigures(new Date().toISOString())).find(
          (f) => f.kind === 'replication.plan',
        )?.pending ?? 0;
      const before = await plans();
      const id = await executions.start(p.id, 'MANUAL');
      const [row] = await executionsOf(p.id);
      assert.equal(row?.id, id);
      assert.equal(row?.status, 'InProgress');
      assert.equal(row?.trigger, 'MANUAL');
      assert.equal(await plans(), before + 1);
      assert.deepEqual(await tasksOf(id), [], 'the plan job is not a task of the execution');
    });

    test('planning enqueues one copy task per filtered artifact, named under the destination namespace', async () => {
      const p = await policy({ filters: [{ type: 'name', value: 'proj/**' }] });
      local = source({
        'proj/app': [
          { digest: 'sha256:aa', tags: ['v1', 'latest'] },
          { digest: 'sha256:bb', tags: [] },
        ],
        'other/app': [{ digest: 'sha256:cc', tags: ['v1'] }],
      });
      const id = await executions.start(p.id, 'MANUAL');
      const ctx = jobContext();
      await executions.plan(id, ctx);
      assert.deepEqual(ctx.lines, ['found 2 artifact(s) to replicate']);
      assert.equal((await executionsOf(p.id))[0]?.status, 'Planned');
      const tasks = await tasksOf(id);
      assert.deepEqual(
        tasks.map((t) => [
          t.kind,
          t.status,
          t.task.srcRepository,
          t.task.reference,
          t.task.tags,
          t.task.dstRepository,
        ]),
        [
          ['replication.copy', 'pending', 'proj/app', 'sha256:aa', ['v1', 'latest'], 'mirror/app'],
          ['replication.copy', 'pending', 'proj/app', 'sha256:bb', [], 'mirror/app'],
        ],
      );
    });

    test('planning nothing ends the execution as succeeded', async () => {
      const p = await policy();
      local = source({});
      const id = await executions.start(p.id, 'MANUAL');
      await executions.plan(id, jobContext());
      const [row] = await executionsOf(p.id);
      assert.equal(row?.status, 'Succeed');
      assert.equal(row?.status_message, 'nothing to replicate');
      assert.ok(row?.end_time);
    });

    test('a listing failure that no retry can fix fails the execution with the reason', async () => {
      const p = await policy();
      local = source(new Error('disk on fire'));
      const id = await executions.start(p.id, 'MANUAL');
      await assert.rejects(executions.plan(id, jobContext()), PermanentJobError);
      const [row] = await executionsOf(p.id);
      assert.equal(row?.status, 'Failed');
      assert.match(row?.status_message ?? '', /planning failed while listing local: disk on fire/);
    });

    test('a push starts event-based policies inside its transaction, or not at all', async () => {
      const p = await policy({
        trigger: { type: 'event_based' },
        filters: [{ type: 'name', value: 'ev/**' }],
      });
      const pushed = { repository: 'ev/app', digest: 'sha256:dd', tag: 'v2', mediaType: 'application/x' };
      await assert.rejects(
        store.transaction(async (tx) => {
          await executions.onPushed(tx, pushed);
          throw new Error('the push failed');
        }),
        /the push failed/,
      );
      assert.deepEqual(await executionsOf(p.id), [], 'rolled back with the push');

      await store.transaction((tx) => executions.onPushed(tx, { ...pushed, repository: 'elsewhere/app' }));
      assert.deepEqual(await executionsOf(p.id), [], 'the name filter holds');

      await store.transaction((tx) => executions.onPushed(tx, pushed));
      const [row] = await executionsOf(p.id);
      assert.equal(row?.trigger, 'EVENT_BASED');
      assert.equal(row?.status, 'Planned');
      const [task] = await tasksOf(row!.id);
      assert.deepEqual(task?.task, {
        policyId: p.id,
        operation: 'copy',
        resourceType: 'image',
        srcRepository: 'ev/app',
        reference: 'sha256:dd',
        tags: ['v2'],
        dstRepository: 'mirror/app',
      });
    });

    test('a delete is replicated only by policies that replicate deletions', async () => {
      const keeps = await policy({
        trigger: { type: 'event_based' },
        filters: [{ type: 'name', value: 'del/**' }],
      });
      const mirrors = await policy({
        trigger: { type: 'event_based' },
        filters: [{ type: 'name', value: 'del/**' }],
        replicate_deletion: true,
      });
      await store.transaction((tx) =>
        executions.onDeleted(tx, { repository: 'del/app', digest: 'sha256:ee' }),
      );
      assert.deepEqual(await executionsOf(keeps.id), []);
      const [row] = await executionsOf(mirrors.id);
      const [task] = await tasksOf(row!.id);
      assert.equal(task?.task.operation, 'deletion');
      assert.equal(task?.task.reference, 'sha256:ee');
      assert.equal(task?.task.dstRepository, 'mirror/app');
    });

    test('a destination the policy cannot name fails its execution and never the push', async () => {
      const p = await policy({
        trigger: { type: 'event_based' },
        filters: [{ type: 'name', value: 'deep/**' }],
        dest_namespace_replace_count: 3,
      });
      await store.transaction((tx) =>
        executions.onPushed(tx, { repository: 'deep/app', digest: 'sha256:ff', tag: null, mediaType: 'x' }),
      );
      const [row] = await executionsOf(p.id);
      assert.equal(row?.status, 'Failed');
      assert.match(row?.status_message ?? '', /^cannot replicate deep\/app: /);
      assert.deepEqual(await tasksOf(row!.id), []);
    });

    test('stop ends the execution and stops its open tasks; an unknown execution is NOT_FOUND', async () => {
      const p = await policy({
        trigger: { type: 'event_based' },
        filters: [{ type: 'name', value: 'stop/**' }],
      });
      await store.transaction((tx) =>
        executions.onPushed(tx, { repository: 'stop/app', digest: 'sha256:11', tag: 'v1', mediaType: 'x' }),
      );
      const [row] = await executionsOf(p.id);
      await executions.stop(row!.id);
      const [stopped] = await executionsOf(p.id);
      assert.equal(stopped?.status, 'Stopped');
      assert.equal(stopped?.status_message, 'stopped by a user');
      assert.deepEqual(
        (await tasksOf(row!.id)).map((t) => t.status),
        ['stopped'],
      );
      await assert.rejects(executions.stop(999_999), (err: AppError) => err.code === 'NOT_FOUND');
    });
  });
}
