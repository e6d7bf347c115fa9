import { hashSecret, passwordProblem, randomPassword } from '../../auth/passwords.js';
import type { NewPermission } from '../../db/repos/robots.js';
import type { MetaStore } from '../../db/store.js';
import type { RobotPermissionRow, RobotRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import type { SettingsService } from '../settings/settings.js';
import { AppError } from '../../lib/errors.js';
import type { ListQuery, Page } from '../../lib/query.js';
import { robotHolds } from './access-control.js';
import { projectRobotGrantable } from './rbac.js';
import type { Subject } from './subject.js';
import { systemRobotGrantable } from './system-grants.js';

export interface RobotPermissionInput {
  kind: string;
  namespace: string;
  access: { resource: string; action: string; effect?: string | undefined }[];
}

export interface RobotInput {
  name: string;
  description?: string | undefined;
  level: string;
  duration?: number | null | undefined;
  disable?: boolean | undefined;
  secret?: string | undefined;
  permissions: RobotPermissionInput[];
}

export interface RobotUpdate {
  name?: string | undefined;
  level?: string | undefined;
  description?: string | undefined;
  disable?: boolean | undefined;
  duration?: number | null | undefined;
  permissions?: RobotPermissionInput[] | undefined;
}

export interface RobotView {
  row: RobotRow;
  /** The name it logs in with: `robot$ci`, `robot$proj+ci`. */
  fullName: string;
  creator: { type: 'local' | 'robot' | ''; ref: number };
  permissions: {
    kind: string;
    namespace: string;
    access: { resource: string; action: string; effect: string }[];
  }[];
}

const nameRe = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/**
 * Robot accounts (Harbor's model, rbac.md §5): system robots (`robot$name`, grants on several projects
 * and system resources) and project robots (`robot$project+name`, one project's grants). The secret is
 * shown once, at creation or refresh, and kept only as an argon2id hash; expiry is in days or never.
 * A robot that creates or edits robots may grant only what it holds itself.
 */
export class RobotService {
  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'projects' | 'robots' | 'transaction'>;
      clock: Clock;
      prefix: string;
      /** `robot_token_duration`: the days a robot created (or updated) with duration 0 or none lives. */
      settings: Pick<SettingsService, 'values'>;
    },
  ) {}

  /** The checks that need no database, so bad input is a BAD_REQUEST before any permission question. */
  validate(input: RobotInput): void {
    if (!nameRe.test(input.name) || input.name.length > 255)
      throw new AppError(
        'BAD_REQUEST',
        'robot name: lowercase letters, digits and ._- between them (no "+", not at the start or end)',
      );
    checkShape(checkLevel(input.level), input.permissions);
    checkDuration(input.duration);
    if (input.secret !== undefined) this.checkSecret(input.secret);
    checkDescription(input.description ?? '');
  }

  async create(
    input: RobotInput,
    creator: Subject,
  ): Promise<{ id: number; name: string; secret: string; row: RobotRow }> {
    this.validate(input);
    const level = checkLevel(input.level);
    const perms = await this.checkPermissions(level, input.permissions, creator);
    const project = level === 'project' ? await this.project(perms[0]!.namespace) : undefined;
    const stored = project ? `${project.name}+${input.name}` : input.name;
    if (stored.length > 255) throw new AppError('BAD_REQUEST', 'robot name is too long');
    const secret = this.checkSecret(input.secret);
    const duration = checkDuration(input.duration) ?? (await this.deps.settings.values()).robotTokenDuration;
    const secretHash = await hashSecret(secret);
    const now = this.deps.clock.now();
    const id = await this.deps.store.transaction((tx) =>
      tx.robots.create(
        {
          name: stored,
          description: checkDescription(input.description ?? ''),
          secret_hash: secretHash,
          level,
          project_id: project?.id ?? null,
          disabled: input.disable ? 1 : 0,
          duration,
          expires_at: expiry(now, duration),
          creator_ref: creatorRef(creator),
          creation_time: now.toISOString(),
          update_time: now.toISOString(),
        },
        perms,
      ),
    );
    if (id === undefined)
      throw new AppError('CONFLICT', `a robot named ${this.deps.prefix}${stored} already exists`);
    const row = (await this.deps.store.robots.findById(id))!;
    return { id, name: this.deps.prefix + row.name, secret, row };
  }

  async get(id: number): Promise<RobotView> {
    const row = await this.deps.store.robots.findById(id);
    if (!row) throw new AppError('NOT_FOUND', `robot ${id} not found`);
    return this.view(row, await this.deps.store.robots.permissions(id));
  }

  async list(
    level: 'system' | 'project',
    projectId: number | undefined,
    query: ListQuery,
  ): Promise<Page<RobotView>> {
    const { rows, total } = await this.deps.store.robots.list(level, projectId, query);
    const perms = await this.deps.store.robots.permissionsOf(rows.map((r) => r.id));
    return {
      total,
      items: rows.map((r) =>
        this.view(
          r,
          perms.filter((p) => p.robot_id === r.id),
        ),
      ),
    };
  }

  /** Level and name never change; a new duration counts from the creation time (as Harbor). */
  async update(id: number, input: RobotUpdate, editor: Subject): Promise<void> {
    const current = await this.get(id);
    const { row } = current;
    if (input.level !== undefined && input.level !== row.level)
      throw new AppError('BAD_REQUEST', 'the level of a robot cannot be changed');
    if (input.name !== undefined && input.name !== current.fullName && input.name !== row.name)
      throw new AppError('BAD_REQUEST', 'the name of a robot cannot be changed');
    let perms: NewPermission[] | undefined;
    if (input.permissions !== undefined) {
      perms = await this.checkPermissions(row.level, input.permissions, editor);
      if (row.level === 'project' && !row.name.startsWith(`${perms[0]!.namespace}+`))
        throw new AppError('BAD_REQUEST', 'a project robot cannot be moved to another project');
    }
    const duration =
      input.duration === undefined || input.duration === null
        ? row.duration
        : (checkDuration(input.duration) ?? (await this.deps.settings.values()).robotTokenDuration);
    await this.deps.store.transaction(async (tx) => {
      if (perms) await tx.robots.setPermissions(id, perms);
      await tx.robots.update(id, {
        description: checkDescription(input.description ?? row.description),
        disabled: input.disable === undefined ? row.disabled : input.disable ? 1 : 0,
        duration,
        expires_at:
          duration === row.duration ? row.expires_at : expiry(new Date(row.creation_time), duration),
        update_time: this.deps.clock.now().toISOString(),
      });
    });
  }

  /** A new secret (the caller's, or a random one that is returned): the old one stops working at once. */
  async refreshSecret(id: number, secret?: string): Promise<{ secret: string; generated: boolean }> {
    await this.get(id);
    const value = this.checkSecret(secret);
    await this.deps.store.robots.update(id, {
      secret_hash: await hashSecret(value),
      update_time: this.deps.clock.now().toISOString(),
    });
    return { secret: value, generated: secret === undefined || secret === '' };
  }

  async delete(id: number): Promise<void> {
    await this.get(id);
    await this.deps.store.robots.delete(id);
  }

  private view(row: RobotRow, perms: readonly RobotPermissionRow[]): RobotView {
    const grouped = new Map<string, RobotView['permissions'][number]>();
    for (const p of perms) {
      const key = `${p.kind}\0${p.namespace}`;
      if (!grouped.has(key)) grouped.set(key, { kind: p.kind, namespace: p.namespace, access: [] });
      grouped.get(key)!.access.push({ resource: p.resource, action: p.action, effect: 'allow' });
    }
    const [type, ref] = row.creator_ref.split(':');
    return {
      row,
      fullName: this.deps.prefix + row.name,
      creator: { type: type === 'local' || type === 'robot' ? type : '', ref: Number(ref) || 0 },
      permissions: [...grouped.values()],
    };
  }

  private async project(name: string) {
    const row = await this.deps.store.projects.findByName(name);
    if (!row) throw new AppError('NOT_FOUND', `project ${name} not found`);
    return row;
  }

  private checkSecret(secret: string | undefined): string {
    if (secret === undefined || secret === '') return randomPassword(32);
    const problem = passwordProblem(secret);
    if (problem) throw new AppError('BAD_REQUEST', `secret: ${problem.replace('password', 'secret')}`);
    return secret;
  }

  /**
   * Harbor's rules: a project robot has exactly one permission, of kind project, naming its project; a
   * system robot may hold one system permission (namespace "/") and any project permissions (a project
   * name or "*"). Every resource:action must be grantable at its scope, and a robot may only pass on what
   * it holds.
   */
  private async checkPermissions(
    level: 'system' | 'project',
    perms: RobotPermissionInput[],
    by: Subject,
  ): Promise<NewPermission[]> {
    checkShape(level, perms);
    const namespaces = new Set<string>();
    const out: NewPermission[] = [];
    for (const p of perms) {
      if (namespaces.has(`${p.kind}:${p.namespace}`))
        throw new AppError('BAD_REQUEST', `namespace ${p.namespace} is given twice`);
      namespaces.add(`${p.kind}:${p.namespace}`);
      if (p.kind === 'project' && p.namespace !== '*') await this.project(p.namespace);
      const seen = new Set<string>();
      for (const a of p.access) {
        const key = `${a.resource}:${a.action}`;
        if (
          by.kind === 'robot' &&
          !robotHolds(by, p.kind === 'system' ? '/' : p.namespace, a.resource, a.action)
        )
          throw new AppError(
            'FORBIDDEN',
            `a robot may only grant what it holds; it lacks ${key} on ${p.namespace}`,
          );
        if (seen.has(key)) continue;
        seen.add(key);
        out.push({
          kind: p.kind as 'project' | 'system',
          namespace: p.namespace,
          resource: a.resource,
          action: a.action,
        });
      }
    }
    return out;
  }
}

/** Structure only: kinds, counts, namespaces and grantable resource:action pairs. */
function checkShape(level: 'system' | 'project', perms: readonly RobotPermissionInput[]): void {
  if (perms.length === 0) throw new AppError('BAD_REQUEST', 'a robot needs at least one permission');
  if (perms.some((p) => p.kind !== 'project' && p.kind !== 'system'))
    throw new AppError('BAD_REQUEST', 'permission kind must be "project" or "system"');
  if (level === 'project' && (perms.length !== 1 || perms[0]!.kind !== 'project'))
    throw new AppError('BAD_REQUEST', 'a project robot has exactly one permission, of kind "project"');
  if (perms.filter((p) => p.kind === 'system').length > 1)
    throw new AppError('BAD_REQUEST', 'at most one permission of kind "system"');
  for (const p of perms) {
    if (p.kind === 'system' && p.namespace !== '/')
      throw new AppError('BAD_REQUEST', 'a system permission has namespace "/"');
    if (p.kind === 'project' && p.namespace === '*' && level === 'project')
      throw new AppError('BAD_REQUEST', 'a project robot names its project, not "*"');
    if (p.access.length === 0)
      throw new AppError('BAD_REQUEST', `permission for ${p.namespace} grants nothing`);
    const allowed = p.kind === 'system' ? systemRobotGrantable : projectRobotGrantable;
    for (const a of p.access) {
      if (a.effect !== undefined && a.effect !== '' && a.effect !== 'allow')
        throw new AppError('BAD_REQUEST', 'only effect "allow" is supported');
      if (!allowed.has(`${a.resource}:${a.action}`))
        throw new AppError(
          'BAD_REQUEST',
          `${a.resource}:${a.action} cannot be granted to a robot at ${p.kind} level`,
        );
    }
  }
}

function checkLevel(level: string): 'system' | 'project' {
  if (level !== 'system' && level !== 'project')
    throw new AppError('BAD_REQUEST', 'level must be "system" or "project"');
  return level;
}

function checkDescription(d: string): string {
  if (d.length > 1024) throw new AppError('BAD_REQUEST', 'description is longer than 1024 characters');
  return d;
}

/** Days (1 to 36500), -1 for never; undefined for 0 or missing, which mean the configured default. */
function checkDuration(days: number | null | undefined): number | undefined {
  if (days === undefined || days === null || days === 0) return undefined;
  if (!Number.isInteger(days) || (days !== -1 && days < 1) || days > 36500)
    throw new AppError('BAD_REQUEST', 'duration is a number of days (1 to 36500), or -1 for never');
  return days;
}

function expiry(from: Date, days: number): number {
  return days === -1 ? -1 : Math.floor(from.getTime() / 1000) + days * 86400;
}

/** `local:<user id>` or `robot:<robot id>`: Harbor's creator_type and creator_ref. */
function creatorRef(s: Subject): string {
  if (s.kind === 'user') return `local:${s.userId}`;
  if (s.kind === 'robot') return `robot:${s.robotId}`;
  return '';
}
