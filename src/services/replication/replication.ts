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

/** Replication's services, wired together (app.ts subscribes its event-based policies to pushes and deletes). */
export class Replication {
  readonly registries: RegistryEndpoints;
  readonly policies: ReplicationPolicies;
  readonly executions: ReplicationExecutions;
  readonly views: ExecutionViews;

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
