import type { BearerTokens } from '../../auth/bearer-token.js';
import type { MetaStore, Repos } from '../../db/store.js';
import { preheatArtifactJob, preheatEventJob, preheatStartJob } from '../../jobs/kinds/preheat.js';
import type { JobRuntime } from '../../jobs/runtime.js';
import type { Clock } from '../../lib/clock.js';
import type { EventBus } from '../events.js';
import type { SecretSealer } from '../replication/registry-endpoints.js';
import type { PullPolicy } from '../scanning/pull-policy.js';
import { PreheatExecutions } from './preheat-executions.js';
import { PreheatInstances } from './preheat-instances.js';
import { PreheatPolicies } from './preheat-policies.js';
import { PreheatRuns } from './preheat-runs.js';

export interface PreheatDeps {
  store: MetaStore;
  clock: Clock;
  jobs: Pick<JobRuntime, 'queue' | 'scheduler'>;
  events: EventBus;
  secrets: SecretSealer;
  tokens: BearerTokens;
  vulnerable: Pick<PullPolicy, 'severities'>;
  /** The registry's base URL as a provider reaches it (the external URL, else the address listened on). */
  registryUrl: () => string;
  check: { checkIntervalSeconds: number; checkTimeoutSeconds: number };
}

/** P2P preheat: provider instances, per-project policies, their runs and executions. */
export interface Preheat {
  instances: PreheatInstances;
  policies: PreheatPolicies;
  runs: PreheatRuns;
  executions: PreheatExecutions;
}

/**
 * Preheat with its job kinds registered and its event-based policies subscribed, as Harbor's: a push with
 * a tag, a label attached (a policy's label filter may now match) and a finished vulnerability scan (which
 * may change what a policy's severity criterion lets through)
 * enqueues a `preheat.event` job in the change's transaction when the project has an event-based policy,
 * so the push itself costs one query and no provider call.
 */
export function wirePreheat(d: PreheatDeps): Preheat {
  const { store, clock } = d;
  const instances = new PreheatInstances({ store, clock, secrets: d.secrets });
  const policies = new PreheatPolicies({ store, clock, scheduler: d.jobs.scheduler });
  const runs = new PreheatRuns({
    ...{ store, clock, queue: d.jobs.queue, policies, instances },
    // Harbor's enforcer judges severity with the project's effective CVE allowlist applied.
    severities: (projectId, rows) => d.vulnerable.severities(projectId, rows),
    pullAuthorization: async (repository) => {
      const { token } = await d.tokens.issue({ kind: 'robot', id: 0, name: 'distributor' }, [
        { type: 'repository', name: repository, actions: ['pull'] },
      ]);
      return `Bearer ${token}`;
    },
    registryUrl: d.registryUrl,
    check: { intervalMs: d.check.checkIntervalSeconds * 1000, timeoutMs: d.check.checkTimeoutSeconds * 1000 },
  });
  const executions = new PreheatExecutions({ store, clock, queue: d.jobs.queue });
  d.jobs.queue.register(preheatStartJob(runs));
  d.jobs.queue.register(preheatEventJob(runs));
  d.jobs.queue.register(preheatArtifactJob(runs));
  const onArtifact = async (tx: Repos, e: { repository: string; digest: string; tag: string | null }) => {
    const projectName = e.repository.split('/', 1)[0]!;
    if ((await tx.preheatPolicies.eventBased(projectName)).length === 0) return;
    await d.jobs.queue.enqueue(tx, 'preheat.event', {
      repository: e.repository,
      digest: e.digest,
      tag: e.tag,
    });
  };
  d.events.onTransaction('ArtifactPushed', (tx, e) => (e.tag ? onArtifact(tx, e) : Promise.resolve()));
  d.events.onTransaction('ArtifactLabeled', (tx, e) => onArtifact(tx, { ...e, tag: null }));
  d.events.onTransaction('ScanCompleted', (tx, e) =>
    e.scanType === 'vulnerability' ? onArtifact(tx, { ...e, tag: null }) : Promise.resolve(),
  );
  return { instances, policies, runs, executions };
}
