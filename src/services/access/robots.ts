import { hashSecret, passwordProblem, randomPassword } from '../../auth/passwords.js';
import type { NewPermission } from '../../db/repos/robots.js';
import type { MetaStore } from '../../db/store.js';
import type { RobotRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { projectRobotGrantable } from './rbac.js';

/** System-scope grants a system robot may hold (Harbor's `PoliciesMap[ScopeSystem]`, rbac.md §5). */
const systemGrantable = new Set(
  Object.entries({
    'audit-log': 'list',
    'preheat-instance': 'read list create update delete',
    project: 'list create',
    'replication-policy': 'read list create update delete',
    replication: 'read list create',
    'replication-adapter': 'list',
    registry: 'read list create update delete',
    'scan-all': 'read create update stop',
    'system-volumes': 'read',
    'garbage-collection': 'read list create update stop',
    'purge-audit': 'read list create update stop',
    'jobservice-monitor': 'list stop',
    scanner: 'read list create update delete',
    label: 'read create update delete',
    'security-hub': 'read list',
    catalog: 'read',
    quota: 'read list update',
    robot: 'read list create delete',
    user: 'read list create update delete',
    'ldap-user': 'list create',
    'user-group': 'read list create update delete',
  }).flatMap(([r, actions]) => actions.split(' ').map((a) => `${r}:${a}`)),
);

export interface RobotPermissionInput {
  kind: string;
  namespace: string;
  access: { resource: string; action: string; effect?: string | undefined }[];
}

export interface RobotInput {
  name: string;
  description?: string | undefined;
  level: string;
  duration: number;
  disable?: boolean | undefined;
  secret?: string | undefined;
  permissions: RobotPermissionInput[];
}

export interface RobotView {
  row: RobotRow;
  permissions: {
    kind: string;
    namespace: string;
    access: { resource: string; action: string; effect: string }[];
  }[];
}

const nameRe = /^[a-z0-9]+(?:[._-][a-z0-9]+)*$/;

/** Robot accounts: secrets hashed and shown once, expiry in days or never, Harbor's grant rules. */
export class RobotService {
  constructor(private readonly deps: { store: MetaStore; clock: Clock; prefix: string }) {}

  fullName(row: RobotRow): string {
    return this.deps.prefix + row.name;
  }

  async create(
    input: RobotInput,
    creator: string,
  ): Promise<{ id: number; name: string; secret: string; row: RobotRow }> {
    if (!nameRe.test(input.name) || input.name.length > 255)
      throw new AppError(
        'BAD_REQUEST',
        'robot name: lowercase letters, digits and ._- (not at the start or end)',
      );
    if (input.level !== 'system' && input.level !== 'project')
      throw new AppError('BAD_REQUEST', 'level must be "system" or "project"');
    const perms = await this.checkPermissions(input.level, input.permissions);
    const stored = input.level === 'project' ? `${perms[0]!.namespace}+${input.name}` : input.name;
    const projectId =
      input.level === 'project' ? (await this.deps.store.projects.findByName(perms[0]!.namespace))!.id : null;
    const secret = this.checkSecret(input.secret);
    const now = this.deps.clock.now();
    const id = await this.deps.store.robots.create(
      {
        name: stored,
        description: (input.description ?? '').slice(0, 1024),
        secret_hash: await hashSecret(secret),
        level: input.level,
        project_id: projectId,
        disabled: input.disable ? 1 : 0,
        duration: checkDuration(input.duration),
        expires_at: expiry(now, input.duration),
        creator_ref: creator,
        creation_time: now.toISOString(),
        update_time: now.toISOString(),
      },
      perms,
    );
    if (id === undefined)
      throw new AppError('CONFLICT', `a robot named ${this.deps.prefix}${stored} already exists`);
    const row = (await this.deps.store.robots.findById(id))!;
    return { id, name: this.fullName(row), secret, row };
  }

  async get(id: number): Promise<RobotView> {
    const row = await this.deps.store.robots.findById(id);
    if (!row) throw new AppError('NOT_FOUND', `robot ${id} not found`);
    const grouped = new Map<string, RobotView['permissions'][number]>();
    for (const p of await this.deps.store.robots.permissions(id)) {
      const key = `${p.kind}\0${p.namespace}`;
      if (!grouped.has(key)) grouped.set(key, { kind: p.kind, namespace: p.namespace, access: [] });
      grouped.get(key)!.access.push({ resource: p.resource, action: p.action, effect: 'allow' });
    }
    return { row, permissions: [...grouped.values()] };
  }

  async update(
    id: number,
    input: {
      description?: string | undefined;
      disable?: boolean | undefined;
      duration?: number | undefined;
      permissions?: RobotPermissionInput[] | undefined;
    },
  ): Promise<void> {
    const { row } = await this.get(id);
    const now = this.deps.clock.now();
    if (input.permissions) {
      const perms = await this.checkPermissions(row.level, input.permissions);
      if (row.level === 'project' && !row.name.startsWith(`${perms[0]!.namespace}+`))
        throw new AppError('BAD_REQUEST', 'a project robot cannot be moved to another project');
      await this.deps.store.robots.setPermissions(id, perms);
    }
    const duration = input.duration === undefined ? row.duration : checkDuration(input.duration);
    await this.deps.store.robots.update(id, {
      description: (input.description ?? row.description).slice(0, 1024),
      disabled: input.disable === undefined ? row.disabled : input.disable ? 1 : 0,
      duration,
      expires_at:
        input.duration === undefined ? row.expires_at : expiry(new Date(row.creation_time), duration),
      update_time: now.toISOString(),
    });
  }

  /** A new secret (given, or random): the old one stops working at once. */
  async refreshSecret(id: number, secret?: string): Promise<string> {
    await this.get(id);
    const value = this.checkSecret(secret);
    await this.deps.store.robots.update(id, {
      secret_hash: await hashSecret(value),
      update_time: this.deps.clock.now().toISOString(),
    });
    return value;
  }

  async delete(id: number): Promise<void> {
    await this.get(id);
    await this.deps.store.robots.delete(id);
  }

  list(q: {
    level?: 'system' | 'project' | undefined;
    projectId?: number | undefined;
    name?: string | undefined;
    offset: number;
    limit: number;
  }) {
    return this.deps.store.robots.list(q as Parameters<MetaStore['robots']['list']>[0]);
  }

  private checkSecret(secret: string | undefined): string {
    if (secret === undefined || secret === '') return randomPassword(32);
    const problem = passwordProblem(secret);
    if (problem) throw new AppError('BAD_REQUEST', `secret: ${problem}`);
    return secret;
  }

  /** Harbor's rules: a project robot has exactly one project grant; a system robot one system grant at most. */
  private async checkPermissions(level: string, perms: RobotPermissionInput[]): Promise<NewPermission[]> {
    if (perms.length === 0) throw new AppError('BAD_REQUEST', 'a robot needs at least one permission');
    const projectPerms = perms.filter((p) => p.kind === 'project');
    const systemPerms = perms.filter((p) => p.kind === 'system');
    if (projectPerms.length + systemPerms.length !== perms.length)
      throw new AppError('BAD_REQUEST', 'permission kind must be "project" or "system"');
    if (level === 'project' && (projectPerms.length !== 1 || systemPerms.length > 0))
      throw new AppError('BAD_REQUEST', 'a project robot has exactly one permission, of kind "project"');
    if (systemPerms.length > 1) throw new AppError('BAD_REQUEST', 'at most one permission of kind "system"');
    const out: NewPermission[] = [];
    for (const p of perms) {
      if (p.kind === 'system' && p.namespace !== '/')
        throw new AppError('BAD_REQUEST', 'a system permission has namespace "/"');
      if (p.kind === 'project') {
        if (p.namespace === '*' && level === 'project')
          throw new AppError('BAD_REQUEST', 'a project robot names its project, not "*"');
        if (p.namespace !== '*' && !(await this.deps.store.projects.findByName(p.namespace)))
          throw new AppError('NOT_FOUND', `project ${p.namespace} not found`);
      }
      if (p.access.length === 0)
        throw new AppError('BAD_REQUEST', `permission for ${p.namespace} grants nothing`);
      for (const a of p.access) {
        if (a.effect !== undefined && a.effect !== 'allow')
          throw new AppError('BAD_REQUEST', 'only effect "allow" is supported');
        const allowed = p.kind === 'system' ? systemGrantable : projectRobotGrantable;
        if (!allowed.has(`${a.resource}:${a.action}`))
          throw new AppError(
            'BAD_REQUEST',
            `${a.resource}:${a.action} cannot be granted to a robot at ${p.kind} level`,
          );
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

function checkDuration(days: number): number {
  if (!Number.isInteger(days) || (days !== -1 && days < 1) || days > 36500)
    throw new AppError('BAD_REQUEST', 'duration is a number of days (1 to 36500), or -1 for never');
  return days;
}

function expiry(from: Date, days: number): number {
  return days === -1 ? -1 : Math.floor(from.getTime() / 1000) + days * 86400;
}
