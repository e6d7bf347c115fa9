import type { MetaStore, Repos } from '../../../db/store.js';
import type { RetentionPolicyRow } from '../../../db/tables.js';
import type { Clock } from '../../../lib/clock.js';
import { AppError } from '../../../lib/errors.js';
import type { PolicyScheduler } from '../../replication/policies.js';
import {
  checkPolicy,
  type RetentionPolicy,
  type RetentionPolicyInput,
  type Rule,
  type Trigger,
} from './policy.js';
import { ruleTemplates } from './rules/index.js';

/** Harbor's default for proxy-cache projects (defaultDaysToRetentionForProxyCacheProject). */
export const proxyProjectRetentionDays = 7;

export const retentionScheduleName = (policyId: number) => `retention.policy.${policyId}`;

export function policyOf(row: RetentionPolicyRow): RetentionPolicy {
  return {
    id: row.id,
    algorithm: 'or',
    rules: JSON.parse(row.rules) as Rule[],
    trigger: JSON.parse(row.trigger) as Trigger,
    scope: { level: 'project', ref: row.project_id },
  };
}

/** Harbor's GET /retentions/metadatas: the listed rule templates and the selectors. */
export function retentionMetadata() {
  return {
    templates: [...ruleTemplates.values()]
      .filter((t) => t.listed)
      .map((t) => ({
        rule_template: t.id,
        display_text: t.displayText,
        action: 'retain',
        params: t.unit ? [{ type: 'int', unit: t.unit, required: true }] : [],
      })),
    scope_selectors: [
      { display_text: 'Repositories', kind: 'doublestar', decorations: ['repoMatches', 'repoExcludes'] },
    ],
    tag_selectors: [{ display_text: 'Tags', kind: 'doublestar', decorations: ['matches', 'excludes'] }],
  };
}

/**
 * Tag retention policies: one per project, named by the project's `retention_id` metadata as Harbor keeps
 * it, with its cron schedule. A policy, its metadata and its schedule always change in one transaction.
 */
export class RetentionPolicies {
  constructor(
    private readonly d: {
      store: Pick<MetaStore, 'projects' | 'retention' | 'transaction'>;
      clock: Clock;
      scheduler: PolicyScheduler;
    },
  ) {}

  async get(id: number): Promise<RetentionPolicy> {
    const row = await this.d.store.retention.findPolicy(id);
    if (!row) throw new AppError('NOT_FOUND', `retention policy ${id} not found`);
    return policyOf(row);
  }

  /** The project a policy input names; BAD_REQUEST naming `scope.ref` when there is none. */
  async projectOf(input: RetentionPolicyInput): Promise<number> {
    const ref = input.scope?.ref;
    if (!Number.isInteger(ref) || ref! <= 0 || !(await this.d.store.projects.findById(ref!)))
      throw new AppError('BAD_REQUEST', `scope.ref: invalid Project id ${ref ?? ''}`);
    return ref!;
  }

  async create(input: RetentionPolicyInput): Promise<number> {
    const p = checkPolicy(input);
    await this.projectOf(input);
    return this.d.store.transaction((tx) => this.insert(tx, p));
  }

  /**
   * The policy Harbor gives a new proxy-cache project, in the project's creating transaction: retain what
   * was pulled within the last 7 days (every repository, every tag), run daily at midnight.
   */
  createForProxyProject(tx: Repos, projectId: number): Promise<number> {
    const everything = (decoration: string) => [{ kind: 'doublestar', decoration, pattern: '**' }];
    return this.insert(
      tx,
      checkPolicy({
        algorithm: 'or',
        rules: [
          {
            priority: 1,
            action: 'retain',
            template: 'nDaysSinceLastPull',
            params: { nDaysSinceLastPull: proxyProjectRetentionDays },
            tag_selectors: everything('matches'),
            scope_selectors: { repository: everything('repoMatches') },
          },
        ],
        trigger: { kind: 'Schedule', settings: { cron: '0 0 0 * * *' } },
        scope: { level: 'project', ref: projectId },
      }),
    );
  }

  /** A policy created in the caller's transaction (a project import creates the project with it). */
  createIn(tx: Repos, input: RetentionPolicyInput): Promise<number> {
    return this.insert(tx, checkPolicy(input));
  }

  private async insert(tx: Repos, p: Omit<RetentionPolicy, 'id'>): Promise<number> {
    const now = this.d.clock.now().toISOString();
    const old = await tx.retention.findPolicyOfProject(p.scope.ref);
    if (old)
      throw new AppError('BAD_REQUEST', `project ${p.scope.ref} already has retention policy ${old.id}`);
    const row = await tx.retention.createPolicy({
      project_id: p.scope.ref,
      algorithm: p.algorithm,
      rules: JSON.stringify(p.rules),
      trigger: JSON.stringify(p.trigger),
      creation_time: now,
      update_time: now,
    });
    await tx.projectCatalog.putMetadata(p.scope.ref, { retention_id: String(row.id) }, now);
    await this.syncSchedule(tx, row.id, p.trigger);
    return row.id;
  }

  /** Replaces the rules and trigger; the scope cannot move the policy to another project. */
  async update(id: number, input: RetentionPolicyInput): Promise<void> {
    const current = await this.get(id);
    const p = checkPolicy(input);
    if (p.scope.ref !== current.scope.ref)
      throw new AppError(
        'BAD_REQUEST',
        `scope.ref: retention policy ${id} belongs to project ${current.scope.ref}, not ${p.scope.ref}`,
      );
    const now = this.d.clock.now().toISOString();
    await this.d.store.transaction(async (tx) => {
      await tx.retention.updatePolicy(id, {
        rules: JSON.stringify(p.rules),
        trigger: JSON.stringify(p.trigger),
        update_time: now,
      });
      await this.syncSchedule(tx, id, p.trigger);
    });
  }

  /** Removes the policy, its executions and schedule, and the project's `retention_id`. */
  async delete(id: number): Promise<void> {
    const current = await this.get(id);
    await this.d.store.transaction(async (tx) => {
      await this.d.scheduler.remove(retentionScheduleName(id), tx);
      await tx.retention.deletePolicy(id);
      await tx.projectCatalog.deleteMetadata(current.scope.ref, 'retention_id');
    });
  }

  private async syncSchedule(tx: Repos, id: number, trigger: Trigger): Promise<void> {
    if (trigger.settings.cron === '') await this.d.scheduler.remove(retentionScheduleName(id), tx);
    else
      await this.d.scheduler.upsert(
        {
          name: retentionScheduleName(id),
          cron: trigger.settings.cron,
          kind: 'retention.start',
          payload: { policyId: id },
        },
        tx,
      );
  }
}
