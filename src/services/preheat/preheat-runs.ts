import { setTimeout as sleep } from 'node:timers/promises';
import type { MetaStore, Repos } from '../../db/store.js';
import type { ArtifactRow, P2pPreheatInstanceRow } from '../../db/tables.js';
import { PermanentJobError, type JobContext } from '../../jobs/kind.js';
import type { PreheatEvent, PreheatTask } from '../../jobs/kinds/preheat.js';
import type { JobQueue } from '../../jobs/queue.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { allQuery } from '../../lib/query.js';
import { artifactTypeOf } from '../artifacts/artifact-type.js';
import { projectSeverity } from '../scanning/pull-policy.js';
import { severityCode } from '../scanning/builtin/severity.js';
import {
  applyFilters,
  unscannedSeverity,
  type PreheatCandidate,
  type PreheatFilter,
} from './preheat-filters.js';
import type { PreheatInstances } from './preheat-instances.js';
import { policyOf, type PreheatPolicies, type PreheatPolicy } from './preheat-policies.js';
import { preheatDriver, type PreheatingStatus } from './provider-drivers.js';
import { isVendor } from './providers.js';

/** Harbor's preheat types (provider.SupportedTypes): images, and AI models (Berth's MODEL). */
const preheatable = new Set(['IMAGE', 'MODEL']);

export interface PreheatRunDeps {
  store: Pick<
    MetaStore,
    | 'artifactCatalog'
    | 'artifacts'
    | 'executions'
    | 'labels'
    | 'preheatInstances'
    | 'preheatPolicies'
    | 'projectCatalog'
    | 'repositoryCatalog'
    | 'transaction'
  >;
  clock: Clock;
  queue: JobQueue;
  policies: PreheatPolicies;
  instances: PreheatInstances;
  /** Harbor's severity code of each artifact's latest successful vulnerability scan (absent: not scanned). */
  severities(projectId: number, rows: ArtifactRow[]): Promise<Map<number, number>>;
  /** `Bearer <token>` allowing a pull of the repository, and nothing else. */
  pullAuthorization(repository: string): Promise<string>;
  /** The registry's base URL as a provider reaches it. */
  registryUrl(): string;
  check: { intervalMs: number; timeoutMs: number };
}

/**
 * Runs preheat policies as Harbor's enforcer does: a run lists the project's tagged images (one candidate
 * per tag), applies the policy's filters (the vulnerability and signature criteria come from the
 * project's settings), and writes one execution with one `preheat.artifact` task per candidate.
 */
export class PreheatRuns {
  constructor(private readonly d: PreheatRunDeps) {}

  private now(): string {
    return this.d.clock.now().toISOString();
  }

  /** ManualPreheat: runs the policy now; the execution's id. */
  async manual(projectId: number, name: string): Promise<number> {
    return this.enforce(await this.d.policies.get(projectId, name));
  }

  /** The `preheat.start` handler (a scheduled policy's cron fired). */
  async startScheduled(policyId: number, ctx: JobContext): Promise<void> {
    const policy = await this.d.policies.byId(policyId);
    if (!policy) {
      await this.d.policies.dropSchedule(policyId);
      return void (await ctx.log(`preheat policy ${policyId} no longer exists: its schedule is removed`));
    }
    try {
      await ctx.log(`started preheat execution ${await this.enforce(policy)}`);
    } catch (err) {
      throw new PermanentJobError((err as Error).message);
    }
  }

  private async enforce(policy: PreheatPolicy): Promise<number> {
    const fail = (message: string) => new AppError('BAD_REQUEST', `enforce policy error: ${message}`);
    if (!policy.row.enabled) throw fail(`policy ${policy.row.id}:${policy.row.name} is not enabled`);
    const instance = await this.healthyInstance(policy).catch((err: Error) => {
      throw err instanceof AppError && err.code === 'NOT_FOUND' ? err : fail(err.message);
    });
    const filters = await this.effectiveFilters(policy);
    const candidates = applyFilters(filters, await this.projectCandidates(policy.row.project_id));
    return this.d.store.transaction((tx) => this.launch(tx, policy, instance, candidates));
  }

  /** The `preheat.event` handler: Harbor's PreheatArtifact for a pushed (or scanned) artifact. */
  async onArtifact(event: PreheatEvent, ctx: JobContext): Promise<void> {
    const projectName = event.repository.split('/', 1)[0]!;
    const policies = (await this.d.store.preheatPolicies.eventBased(projectName)).map(policyOf);
    if (policies.length === 0) return;
    const repo = await this.d.store.repositoryCatalog.byName(event.repository);
    const row = repo && (await this.d.store.artifacts.findByDigest(repo.id, event.digest));
    if (!repo || !row) return void (await ctx.log(`${event.repository}@${event.digest} is gone`));
    let candidates = await this.candidates(repo.project_id, [row], new Map([[repo.id, event.repository]]));
    if (event.tag !== null) candidates = candidates.filter((c) => c.tag === event.tag);
    for (const policy of policies) {
      const matched = applyFilters(await this.effectiveFilters(policy), candidates);
      if (matched.length === 0) continue;
      let instance: P2pPreheatInstanceRow;
      try {
        instance = await this.healthyInstance(policy);
      } catch (err) {
        await ctx.log(`policy ${policy.row.name}: ${(err as Error).message}`);
        continue;
      }
      const id = await this.d.store.transaction((tx) => this.launch(tx, policy, instance, matched));
      await ctx.log(`policy ${policy.row.name}: execution ${id}, ${matched.length} task(s)`);
    }
  }

  private async healthyInstance(policy: PreheatPolicy): Promise<P2pPreheatInstanceRow> {
    const instance = await this.d.store.preheatInstances.byId(policy.row.provider_id);
    if (!instance) throw new AppError('NOT_FOUND', `instance ${policy.row.provider_id} not found`);
    await this.d.instances.ping({ id: instance.id });
    return instance;
  }

  /** One execution, its tasks enqueued with it; with no candidate it is done at once. */
  private async launch(
    tx: Repos,
    policy: PreheatPolicy,
    instance: P2pPreheatInstanceRow,
    candidates: PreheatCandidate[],
  ): Promise<number> {
    const now = this.now();
    const { type } = policy.trigger;
    const executions = tx.executions('P2P_PREHEAT');
    const execution = await executions.create(policy.row.id, type, now, {
      totalCount: candidates.length,
      trigger: type,
      triggerSetting: type === 'scheduled' ? (policy.trigger.trigger_setting?.cron ?? '') : '-',
    });
    if (candidates.length === 0) {
      await executions.set(
        execution.id,
        { status: 'Success', status_message: 'no artifacts to preheat', end_time: now },
        now,
      );
      return execution.id;
    }
    await executions.set(execution.id, { status: 'Running' }, now);
    const project = policy.row.project_id;
    const projectName = (await tx.projectCatalog.byId(project))?.name ?? '';
    await this.d.queue.enqueueMany(
      tx,
      'preheat.artifact',
      candidates.map((c) => ({
        payload: {
          policyId: policy.row.id,
          providerId: instance.id,
          repository: `${projectName}/${c.repository}`,
          tag: c.tag,
          digest: c.digest,
          kind: c.kind,
        } satisfies PreheatTask,
        options: { executionId: execution.id },
      })),
    );
    return execution.id;
  }

  /**
   * The policy's repository, tag and label filters, with the vulnerability and signature criteria taken
   * from the project's settings as Harbor does (`prevent_vul` with `severity`, `enable_content_trust`).
   */
  private async effectiveFilters(policy: PreheatPolicy): Promise<PreheatFilter[]> {
    const meta = (await this.d.store.projectCatalog.metadata([policy.row.project_id])).get(
      policy.row.project_id,
    );
    const filters = policy.filters.filter((f) => f.type !== 'signature' && f.type !== 'vulnerability');
    if (meta?.enable_content_trust === 'true') filters.push({ type: 'signature', value: true });
    if (meta?.prevent_vul === 'true' && meta.severity)
      filters.push({ type: 'vulnerability', value: severityCode(projectSeverity(meta.severity)) });
    return filters;
  }

  /** Every tagged image of the project, one candidate per tag, a page of artifacts at a time. */
  private async projectCandidates(projectId: number): Promise<PreheatCandidate[]> {
    const out: PreheatCandidate[] = [];
    for (let page = 1; ; page++) {
      const { items } = await this.d.store.artifactCatalog.list({ ...allQuery(100), page }, { projectId });
      const names = await this.d.store.repositoryCatalog.namesOf([
        ...new Set(items.map((a) => a.repository_id)),
      ]);
      out.push(...(await this.candidates(projectId, items, names)));
      if (items.length < 100) return out;
    }
  }

  private async candidates(
    projectId: number,
    rows: ArtifactRow[],
    repositories: Map<number, string>,
  ): Promise<PreheatCandidate[]> {
    const images = rows.filter((r) => preheatable.has(artifactTypeOf(r.media_type, r.artifact_type)));
    if (images.length === 0) return [];
    const ids = images.map((r) => r.id);
    const [tags, labels, severities] = await Promise.all([
      this.d.store.artifactCatalog.tagsOf(ids),
      this.d.store.labels.ofArtifacts(ids),
      this.d.severities(projectId, images),
    ]);
    const signed = new Set<number>();
    for (const r of images) {
      const accessories = await this.d.store.artifactCatalog.accessoriesOf(r.repository_id, [r.digest]);
      const list = accessories.get(r.digest) ?? [];
      if (list.some((a) => artifactTypeOf(a.media_type, a.artifact_type) === 'SIGNATURE')) signed.add(r.id);
    }
    return images.flatMap((r) => {
      const full = repositories.get(r.repository_id) ?? '';
      return (tags.get(r.id) ?? []).map((t) => ({
        repository: full.slice(full.indexOf('/') + 1),
        digest: r.digest,
        tag: t.name,
        labels: (labels.get(r.id) ?? []).map((l) => l.name),
        severity: severities.get(r.id) ?? unscannedSeverity,
        signed: signed.has(r.id),
        kind: artifactTypeOf(r.media_type, r.artifact_type).toLowerCase(),
      }));
    });
  }

  /** The `preheat.artifact` handler: Harbor's preheat job, never retried. */
  async preheat(task: PreheatTask, ctx: JobContext): Promise<void> {
    const instance = await this.d.store.preheatInstances.byId(task.providerId);
    if (!instance || !isVendor(instance.vendor))
      throw new PermanentJobError(`preheat provider instance ${task.providerId} no longer exists`);
    const policy = await this.d.policies.byId(task.policyId);
    await ctx.log(
      `Preheating image '${task.repository}:${task.tag}@${task.digest}' to the target preheat provider: ${instance.vendor} ${instance.name}:${instance.endpoint}`,
    );
    await this.d.instances.ping({ id: instance.id });
    await ctx.log('Check health of preheat provider instance: Healthy');
    const driver = preheatDriver({
      vendor: instance.vendor,
      endpoint: instance.endpoint,
      authMode: instance.auth_mode,
      authInfo: this.d.instances.authInfo(instance.auth_data),
      insecure: instance.insecure === 1,
    });
    try {
      let status = await driver.preheat(
        {
          type: task.kind,
          url: `${this.d.registryUrl().replace(/\/+$/, '')}/v2/${task.repository}/manifests/${task.tag}`,
          headers: { Authorization: await this.d.pullAuthorization(task.repository) },
          image: task.repository,
          tag: task.tag,
          digest: task.digest,
          extraAttrs: policy?.extraAttrs ?? {},
        },
        ctx.signal,
      );
      await ctx.log(`Sending preheat request is successfully done (provider task ${status.taskId})`);
      const deadline = Date.now() + this.d.check.timeoutMs;
      while (status.status === 'PENDING' || status.status === 'RUNNING') {
        if (Date.now() >= deadline)
          throw new Error(`status check timeout: ${this.d.check.timeoutMs / 1000}s`);
        await sleep(this.d.check.intervalMs, undefined, { signal: ctx.signal });
        status = await driver.checkProgress(status.taskId, ctx.signal);
        await ctx.log(`Check preheat progress: ${describe(status)}`);
      }
      if (status.status === 'FAIL') throw new Error(`preheat failed: ${describe(status)}`);
      if (status.message) await ctx.log(`Preheat job finished, message from provider:\n${status.message}`);
      await ctx.log('Preheating is completed');
    } finally {
      await driver.close();
    }
  }
}

function describe(s: PreheatingStatus): string {
  const text = `Task [${s.taskId}] is ${s.status.toLowerCase()}`;
  return s.status === 'FAIL' ? `${text} with error: ${s.error ?? ''}` : text;
}
