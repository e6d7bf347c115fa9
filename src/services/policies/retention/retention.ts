import type { MetaStore } from '../../../db/store.js';
import type { JobQueue } from '../../../jobs/queue.js';
import type { Clock } from '../../../lib/clock.js';
import type { PolicyScheduler } from '../../replication/policies.js';
import type { RepositoryTaskDeps } from './repository-task.js';
import { RetentionExecutions } from './retention-executions.js';
import { RetentionPolicies } from './retention-policies.js';

export interface RetentionDeps {
  store: Pick<MetaStore, 'jobs' | 'projects' | 'retention' | 'transaction'>;
  clock: Clock;
  queue: JobQueue;
  scheduler: PolicyScheduler;
  task: Omit<RepositoryTaskDeps, 'store' | 'clock'>;
}

/** Tag retention's services, wired together. */
export class Retention {
  readonly policies: RetentionPolicies;
  readonly executions: RetentionExecutions;

  constructor(d: RetentionDeps) {
    this.policies = new RetentionPolicies({ store: d.store, clock: d.clock, scheduler: d.scheduler });
    this.executions = new RetentionExecutions({
      store: d.store,
      clock: d.clock,
      queue: d.queue,
      policies: this.policies,
      task: d.task,
    });
  }
}
