import type { MetaStore, Repos } from '../../db/store.js';
import type { P2pPreheatPolicyRow } from '../../db/tables.js';
import { parseCron } from '../../jobs/cron.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { ListQuery, Page } from '../../lib/query.js';
import type { PolicyScheduler } from '../replication/policies.js';
import { parseFilters, type PreheatFilter } from './preheat-filters.js';

/** A policy as Harbor's API takes it: filters, trigger and extra_attrs are JSON text. */
export interface PreheatPolicyInput {
  name: string;
  description?: string | undefined;
  providerId: number;
  filters?: string | undefined;
  trigger?: string | undefined;
  enabled?: boolean | undefined;
  extraAttrs?: string | undefined;
}

export type TriggerType = 'manual' | 'scheduled' | 'event_based';

/** Harbor's trigger JSON: `{"type":"scheduled","trigger_setting":{"cron":"0 0 * * * *"}}`. */
export interface PreheatTrigger {
  type: TriggerType;
  trigger_setting?: { cron?: string };
}

/** A stored policy with its JSON read. */
export interface PreheatPolicy {
  row: P2pPreheatPolicyRow;
  filters: PreheatFilter[];
  trigger: PreheatTrigger;
  extraAttrs: Record<string, unknown>;
}

export interface PolicyView {
  row: P2pPreheatPolicyRow;
  providerName: string;
}

const nameRule = /^[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*$/;
const triggerTypes = new Set<string>(['manual', 'scheduled', 'event_based']);

export const preheatScheduleName = (policyId: number) => `preheat.policy.${policyId}`;

/** Reads a stored policy's JSON columns (validated when written). */
export function policyOf(row: P2pPreheatPolicyRow): PreheatPolicy {
  return {
    row,
    filters: parseFilters(row.filters),
    trigger: JSON.parse(row.trigger) as PreheatTrigger,
    extraAttrs: row.extra_attrs ? (JSON.parse(row.extra_attrs) as Record<string, unknown>) : {},
  };
}

type Store = Pick<MetaStore, 'preheatPolicies' | 'preheatInstances' | 'executions' | 'transaction'>;

/** Per-project preheat policies (Harbor's preheat controller, policy half) and their cron schedules. */
export class PreheatPolicies {
  constructor(private readonly d: { store: Store; clock: Clock; scheduler: PolicyScheduler }) {}

  /** A project's policies, each with its provider's name. */
  async list(projectId: number, query: ListQuery): Promise<Page<PolicyView>> {
    const page = await this.d.store.preheatPolicies.list(projectId, query);
    const names = await this.providerNames();
    return {
      total: page.total,
      items: page.items.map((row) => ({ row, providerName: names.get(row.provider_id) ?? '' })),
    };
  }

  /** A policy with its provider's name. */
  async view(projectId: number, name: string): Promise<PolicyView> {
    const { row } = await this.get(projectId, name);
    const provider = await this.d.store.preheatInstances.byId(row.provider_id);
    return { row, providerName: provider?.name ?? '' };
  }

  async get(projectId: number, name: string): Promise<PreheatPolicy> {
    const row = await this.d.store.preheatPolicies.byName(projectId, name);
    if (!row) throw new AppError('NOT_FOUND', `preheat policy ${name} not found`);
    return policyOf(row);
  }

  /** Removes the cron schedule of a policy that is gone with its project (project deletion leaves it). */
  async dropSchedule(policyId: number): Promise<void> {
    await this.d.store.transaction((tx) => this.d.scheduler.remove(preheatScheduleName(policyId), tx));
  }

  async byId(id: number): Promise<PreheatPolicy | undefined> {
    const row = await this.d.store.preheatPolicies.byId(id);
    return row && policyOf(row);
  }

  private async providerNames(): Promise<Map<number, string>> {
    return new Map((await this.d.store.preheatInstances.all()).map((i) => [i.id, i.name]));
  }

  async create(projectId: number, input: PreheatPolicyInput): Promise<P2pPreheatPolicyRow> {
    const values = await this.validate(input);
    const now = this.d.clock.now().toISOString();
    return this.d.store.transaction(async (tx) => {
      if (await tx.preheatPolicies.byName(projectId, values.name))
        throw new AppError('CONFLICT', `preheat policy ${values.name} already exists`);
      const row = await tx.preheatPolicies.create({
        ...values,
        project_id: projectId,
        creation_time: now,
        update_time: now,
      });
      await this.syncSchedule(tx, policyOf(row));
      return row;
    });
  }

  /** Replaces the named policy with `input`; renaming onto another policy's name is a conflict. */
  async update(projectId: number, name: string, input: PreheatPolicyInput): Promise<void> {
    const values = await this.validate(input);
    await this.d.store.transaction(async (tx) => {
      const old = await tx.preheatPolicies.byName(projectId, name);
      if (!old) throw new AppError('NOT_FOUND', `preheat policy ${name} not found`);
      const clash = await tx.preheatPolicies.byName(projectId, values.name);
      if (clash && clash.id !== old.id)
        throw new AppError('CONFLICT', `preheat policy ${values.name} already exists`);
      await tx.preheatPolicies.update(old.id, { ...values, update_time: this.d.clock.now().toISOString() });
      await this.syncSchedule(tx, policyOf({ ...old, ...values }));
    });
  }

  /** Harbor refuses while a run of the policy has tasks open; its executions go with it. */
  async delete(projectId: number, name: string): Promise<void> {
    const policy = await this.get(projectId, name);
    const executions = this.d.store.executions('P2P_PREHEAT');
    const { rows } = await executions.list({ vendorId: policy.row.id, offset: 0, limit: 1000 });
    for (const e of rows)
      if ((await executions.openTasks(e.id)).length > 0)
        throw new AppError(
          'PRECONDITION',
          `execution ${e.id} under the policy ${name} is running, stop it and retry`,
        );
    await this.d.store.transaction(async (tx) => {
      await this.d.scheduler.remove(preheatScheduleName(policy.row.id), tx);
      await tx.executions('P2P_PREHEAT').deleteByVendorId(policy.row.id);
      await tx.preheatPolicies.delete(policy.row.id);
    });
  }

  private async validate(input: PreheatPolicyInput) {
    if (!nameRule.test(input.name)) throw new AppError('BAD_REQUEST', `name ${input.name} is invalid`);
    if (!input.filters) throw new AppError('BAD_REQUEST', 'missing filters in preheat policy schema');
    const filters = parseFilters(input.filters);
    if (!input.trigger)
      throw new AppError('BAD_REQUEST', 'missing trigger settings in preheat policy schema');
    const trigger = parseTrigger(input.trigger);
    let extra = '';
    if (input.extraAttrs) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(input.extraAttrs);
      } catch {
        throw new AppError('BAD_REQUEST', `invalid extra_attrs of preheat policy: ${input.extraAttrs}`);
      }
      if (parsed !== null && (typeof parsed !== 'object' || Array.isArray(parsed)))
        throw new AppError('BAD_REQUEST', 'extra_attrs of preheat policy must be an object');
      extra = input.extraAttrs;
    }
    // As Harbor: the provider must exist (404 when it does not).
    if (!(await this.d.store.preheatInstances.byId(input.providerId)))
      throw new AppError('NOT_FOUND', `instance ${input.providerId} not found`);
    return {
      name: input.name,
      description: input.description ?? '',
      provider_id: input.providerId,
      filters: JSON.stringify(filters),
      trigger: JSON.stringify(trigger),
      enabled: input.enabled ? 1 : 0,
      extra_attrs: extra,
    };
  }

  private async syncSchedule(tx: Repos, p: PreheatPolicy): Promise<void> {
    const cron = p.trigger.trigger_setting?.cron;
    if (p.row.enabled && p.trigger.type === 'scheduled' && cron)
      await this.d.scheduler.upsert(
        {
          name: preheatScheduleName(p.row.id),
          cron,
          kind: 'preheat.start',
          payload: { policyId: p.row.id },
        },
        tx,
      );
    else await this.d.scheduler.remove(preheatScheduleName(p.row.id), tx);
  }
}

function parseTrigger(text: string): PreheatTrigger {
  let parsed: { type?: unknown; trigger_setting?: { cron?: unknown } };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch {
    throw new AppError('BAD_REQUEST', `invalid trigger of preheat policy: ${text}`);
  }
  if (!parsed || typeof parsed.type !== 'string' || !triggerTypes.has(parsed.type))
    throw new AppError('BAD_REQUEST', `invalid trigger type of preheat policy: ${String(parsed?.type)}`);
  const cron = typeof parsed.trigger_setting?.cron === 'string' ? parsed.trigger_setting.cron.trim() : '';
  if (parsed.type === 'scheduled' && cron) {
    try {
      parseCron(cron);
    } catch (err) {
      throw new AppError(
        'BAD_REQUEST',
        `invalid cron string for scheduled preheat: ${cron}, error: ${(err as Error).message}`,
      );
    }
  }
  return { type: parsed.type as TriggerType, ...(cron ? { trigger_setting: { cron } } : {}) };
}
