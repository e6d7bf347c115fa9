import { z } from 'zod';
import type { MetaStore, Repos } from '../../db/store.js';
import type { ReplicationPolicyRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { parseCron } from '../../jobs/cron.js';
import { AppError } from '../../lib/errors.js';
import type { ListQuery, Page } from '../../lib/query.js';
import { compileFilters, replicationFilter, type ReplicationFilter } from './filters.js';
import type { RegistryEndpoints, RegistryView } from './registry-endpoints.js';

/** What policies need of the cron scheduler (jobs/cron.ts); writes go into the caller's transaction. */
export interface PolicyScheduler {
  upsert(
    input: {
      name: string;
      cron: string;
      kind: string;
      payload: unknown;
      enabled?: boolean;
    },
    tx: Repos,
  ): Promise<unknown>;
  remove(name: string, tx: Repos): Promise<boolean>;
}

const registryRef = z
  .object({ id: z.number().int().min(0) })
  .passthrough()
  .nullable()
  .optional();

/** Harbor's ReplicationPolicy as clients send it (read-only fields are ignored). */
export const policyInput = z
  .object({
    id: z.number().optional(),
    name: z.string().trim().min(1, 'the policy name is required').max(255),
    description: z.string().max(1024).optional(),
    src_registry: registryRef,
    dest_registry: registryRef,
    dest_namespace: z.string().max(255).optional(),
    dest_namespace_replace_count: z.number().int().min(-1).max(127).optional(),
    trigger: z
      .object({
        type: z.enum(['manual', 'scheduled', 'event_based']),
        trigger_settings: z.object({ cron: z.string().optional() }).passthrough().nullable().optional(),
      })
      .passthrough()
      .nullable()
      .optional(),
    filters: z.array(replicationFilter).nullable().optional(),
    replicate_deletion: z.boolean().optional(),
    deletion: z.boolean().optional(),
    override: z.boolean().optional(),
    enabled: z.boolean().optional(),
    speed: z.number().int().min(-1).optional(),
    copy_by_chunk: z.boolean().optional(),
    single_active_replication: z.boolean().optional(),
    creation_time: z.string().optional(),
    update_time: z.string().optional(),
  })
  .strict();
export type PolicyInput = z.infer<typeof policyInput>;

export interface Trigger {
  type: 'manual' | 'scheduled' | 'event_based';
  trigger_settings?: { cron?: string };
}

/** A policy as the services use it. `null` registry = this Berth. */
export interface Policy {
  id: number;
  name: string;
  description: string;
  srcRegistryId: number | null;
  destRegistryId: number | null;
  destNamespace: string;
  replaceCount: number;
  trigger: Trigger;
  filters: ReplicationFilter[];
  replicateDeletion: boolean;
  override: boolean;
  enabled: boolean;
  speed: number;
  copyByChunk: boolean;
  creationTime: string;
  updateTime: string;
}

export function policyOf(row: ReplicationPolicyRow): Policy {
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    srcRegistryId: row.src_registry_id,
    destRegistryId: row.dest_registry_id,
    destNamespace: row.dest_namespace,
    replaceCount: row.dest_namespace_replace_count,
    trigger: JSON.parse(row.trigger) as Trigger,
    filters: JSON.parse(row.filters) as ReplicationFilter[],
    replicateDeletion: row.replicate_deletion === 1,
    override: row.override === 1,
    enabled: row.enabled === 1,
    speed: row.speed,
    copyByChunk: row.copy_by_chunk === 1,
    creationTime: row.creation_time,
    updateTime: row.update_time,
  };
}

export const scheduleName = (policyId: number) => `replication.policy.${policyId}`;

/** Replication policies: validation, storage, and their cron schedule. */
export class ReplicationPolicies {
  constructor(
    private readonly d: {
      store: Pick<MetaStore, 'registries' | 'replication' | 'transaction'>;
      clock: Clock;
      registries: RegistryEndpoints;
      scheduler: PolicyScheduler;
      /** How this Berth appears as src_registry/dest_registry (Harbor's id-0 "Local"). */
      localView: () => RegistryView;
    },
  ) {}

  async create(input: PolicyInput): Promise<Policy> {
    const values = await this.validate(input);
    if (await this.d.store.replication.findPolicyByName(input.name)) {
      throw new AppError('CONFLICT', `a replication policy named ${input.name} already exists`);
    }
    const now = this.d.clock.now().toISOString();
    // The policy and its schedule commit together.
    const row = await this.d.store.transaction(async (tx) => {
      const created = await tx.replication.createPolicy({ ...values, creation_time: now, update_time: now });
      await this.syncSchedule(tx, policyOf(created));
      return created;
    });
    return policyOf(row);
  }

  async get(id: number): Promise<Policy> {
    const row = await this.d.store.replication.findPolicy(id);
    if (!row) throw new AppError('NOT_FOUND', `replication policy ${id} not found`);
    return policyOf(row);
  }

  async list(query: ListQuery): Promise<Page<Policy>> {
    const page = await this.d.store.replication.listPolicies(query);
    return { total: page.total, items: page.items.map(policyOf) };
  }

  async update(id: number, input: PolicyInput): Promise<Policy> {
    const current = await this.get(id);
    const values = await this.validate(input);
    const other = await this.d.store.replication.findPolicyByName(input.name);
    if (other && other.id !== id) {
      throw new AppError('CONFLICT', `a replication policy named ${input.name} already exists`);
    }
    return this.d.store.transaction(async (tx) => {
      await tx.replication.updatePolicy(current.id, {
        ...values,
        update_time: this.d.clock.now().toISOString(),
      });
      const updated = policyOf((await tx.replication.findPolicy(id))!);
      await this.syncSchedule(tx, updated);
      return updated;
    });
  }

  async delete(id: number): Promise<void> {
    await this.get(id);
    const { rows } = await this.d.store.replication.listExecutions({ policyId: id, offset: 0, limit: 1000 });
    for (const e of rows) {
      if ((await this.d.store.replication.openTasks(e.id)).length > 0) {
        throw new AppError(
          'PRECONDITION',
          `replication policy ${id} has a running execution (${e.id}); stop it first`,
        );
      }
    }
    await this.d.store.transaction(async (tx) => {
      await this.d.scheduler.remove(scheduleName(id), tx);
      await tx.replication.deletePolicy(id);
    });
  }

  /** Harbor's ReplicationPolicy JSON. */
  async view(p: Policy) {
    const reg = async (id: number | null) =>
      id === null ? this.d.localView() : this.d.registries.view(await this.d.registries.get(id));
    return {
      id: p.id,
      name: p.name,
      description: p.description,
      src_registry: await reg(p.srcRegistryId),
      dest_registry: await reg(p.destRegistryId),
      dest_namespace: p.destNamespace,
      dest_namespace_replace_count: p.replaceCount,
      trigger: p.trigger,
      filters: p.filters,
      replicate_deletion: p.replicateDeletion,
      deletion: p.replicateDeletion,
      override: p.override,
      enabled: p.enabled,
      speed: p.speed,
      copy_by_chunk: p.copyByChunk,
      single_active_replication: false,
      creation_time: p.creationTime,
      update_time: p.updateTime,
    };
  }

  private async validate(input: PolicyInput) {
    const src = input.src_registry?.id || null;
    const dest = input.dest_registry?.id || null;
    if (src !== null && dest !== null) {
      throw new AppError(
        'BAD_REQUEST',
        'either the source or the destination registry must be this Berth (local)',
      );
    }
    if (src === null && dest === null) {
      throw new AppError(
        'BAD_REQUEST',
        'a source registry (pull-based) or a destination registry (push-based) is required',
      );
    }
    for (const id of [src, dest]) {
      if (id !== null && !(await this.d.store.registries.find(id))) {
        throw new AppError('BAD_REQUEST', `registry ${id} does not exist`);
      }
    }
    const trigger: Trigger = { type: input.trigger?.type ?? 'manual' };
    if (trigger.type === 'scheduled') {
      const cron = input.trigger?.trigger_settings?.cron?.trim();
      if (!cron) throw new AppError('BAD_REQUEST', 'a scheduled trigger needs trigger_settings.cron');
      parseCron(cron);
      trigger.trigger_settings = { cron };
    }
    if (trigger.type === 'event_based' && src !== null) {
      throw new AppError(
        'BAD_REQUEST',
        'an event-based trigger needs this Berth as the source (push-based policy)',
      );
    }
    const filters = input.filters ?? [];
    compileFilters(filters);
    return {
      name: input.name,
      description: input.description ?? '',
      src_registry_id: src,
      dest_registry_id: dest,
      dest_namespace: (input.dest_namespace ?? '').replace(/^\/+|\/+$/g, ''),
      dest_namespace_replace_count: input.dest_namespace_replace_count ?? -1,
      trigger: JSON.stringify(trigger),
      filters: JSON.stringify(filters),
      replicate_deletion: (input.replicate_deletion ?? input.deletion) ? 1 : 0,
      override: input.override === false ? 0 : 1,
      enabled: input.enabled === false ? 0 : 1,
      speed: input.speed ?? 0,
      copy_by_chunk: input.copy_by_chunk ? 1 : 0,
    };
  }

  private async syncSchedule(tx: Repos, p: Policy): Promise<void> {
    const cron = p.trigger.trigger_settings?.cron;
    if (p.enabled && p.trigger.type === 'scheduled' && cron) {
      await this.d.scheduler.upsert(
        {
          name: scheduleName(p.id),
          cron,
          kind: 'replication.start',
          payload: { policyId: p.id, trigger: 'SCHEDULE' },
        },
        tx,
      );
    } else {
      await this.d.scheduler.remove(scheduleName(p.id), tx);
    }
  }
}
