import { replicationCopyJob, replicationPlanJob, replicationStartJob } from '../../jobs/kinds/replication.js';
import type { EventBus } from '../events.js';
import type { MetaStore } from '../../db/store.js';
import type { JobQueue } from '../../jobs/queue.js';
import type { Clock } from '../../lib/clock.js';
import type { Log } from '../../lib/logger.js';
import { ExecutionViews } from './execution-views.js';
import { ReplicationExecutions } from './executions.js';
import { LocalRegistry, type LocalRegistryDeps } from './local-registry.js';
import { ReplicationPolicies, type PolicyScheduler } from './policies.js';
import { RegistryEndpoints, type RegistryView, type SecretSealer } from './registry-endpoints.js';

export interface ReplicationDeps {
  store: Pick<
    MetaStore,
    | 'artifacts'
    | 'jobs'
    | 'labels'
    | 'projects'
    | 'registries'
    | 'replication'
    | 'repositories'
    | 'tags'
    | 'transaction'
  >;
  clock: Clock;
  log: Log;
  queue: JobQueue;
  scheduler: PolicyScheduler;
  secrets: SecretSealer;
  local: Omit<LocalRegistryDeps, 'store' | 'clock' | 'log'>;
  /** The URL this Berth is reached at, shown for the local side of a policy. */
  externalUrl?: string;
  /** Where a task's outcome is published (webhooks' REPLICATION). */
  events: Pick<EventBus, 'publish' | 'emit'>;
}

/** Replication's services, wired together. */
export class Replication {
  readonly registries: RegistryEndpoints;
  readonly policies: ReplicationPolicies;
  readonly executions: ReplicationExecutions;
  readonly views: ExecutionViews;

  /**
   * Replication with its event-based policies subscribed and its job kinds registered: a push, a tag
   * added through the API or a delete enqueues its execution in the change's transaction, so the work
   * commits with the change or not at all.
   */
  static wire(d: ReplicationDeps & { events: EventBus }): Replication {
    const replication = new Replication(d);
    const { executions } = replication;
    d.events.onTransaction('ArtifactPushed', (tx, e) => executions.onPushed(tx, e));
    // Harbor replicates a tag added through the API like a push of the artifact with that tag.
    d.events.onTransaction('TagCreated', (tx, e) => executions.onPushed(tx, e));
    d.events.onTransaction('ArtifactDeleted', (tx, e) => executions.onDeleted(tx, e));
    d.queue.register(replicationStartJob(executions));
    d.queue.register(replicationPlanJob(executions));
    d.queue.register(replicationCopyJob(executions));
    return replication;
  }

  constructor(d: ReplicationDeps) {
    const { store, clock, log } = d;
    this.registries = new RegistryEndpoints({ store, clock, secrets: d.secrets });
    this.policies = new ReplicationPolicies({
      store,
      clock,
      registries: this.registries,
      scheduler: d.scheduler,
      localView: () => localView(d.externalUrl ?? ''),
    });
    const local = new LocalRegistry({ ...d.local, store, clock, log });
    this.executions = new ReplicationExecutions({
      store,
      clock,
      log,
      queue: d.queue,
      registries: this.registries,
      policies: this.policies,
      local: () => local,
      events: d.events,
    });
    this.views = new ExecutionViews({ store });
  }
}

/** Harbor shows the local registry as registry 0, "Local". */
function localView(url: string): RegistryView {
  return {
    id: 0,
    name: 'Local',
    type: 'harbor',
    url,
    description: '',
    credential: { type: 'secret', access_key: '', access_secret: '' },
    insecure: false,
    status: 'healthy',
    creation_time: '0001-01-01T00:00:00.000Z',
    update_time: '0001-01-01T00:00:00.000Z',
  };
}
