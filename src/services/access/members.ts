import type { MemberView } from '../../db/repos/members.js';
import type { MetaStore } from '../../db/store.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import { roleById } from './rbac.js';

export interface NewMember {
  roleId: number;
  /** An existing user by id or name. */
  user?: { userId?: number | undefined; username?: string | undefined } | undefined;
  /** An existing user group by id, or by name/DN (created if it does not exist, as Harbor does). */
  group?:
    | {
        id?: number | undefined;
        groupName?: string | undefined;
        groupType?: number | undefined;
        ldapGroupDn?: string | undefined;
      }
    | undefined;
}

/** Project members (users and groups) with Harbor's role ids. Role changes show in the next token. */
export class MemberService {
  constructor(
    private readonly deps: { store: Pick<MetaStore, 'members' | 'userGroups' | 'users'>; clock: Clock },
  ) {}

  list(projectId: number, q: { entityName?: string | undefined; offset: number; limit: number }) {
    return this.deps.store.members.list(projectId, q);
  }

  async get(projectId: number, memberId: number): Promise<MemberView> {
    const row = await this.deps.store.members.find(projectId, memberId);
    if (!row) throw new AppError('NOT_FOUND', `member ${memberId} not found in this project`);
    return row;
  }

  async add(projectId: number, input: NewMember): Promise<number> {
    checkRole(input.roleId);
    const now = this.deps.clock.now().toISOString();
    let type: 'u' | 'g';
    let entityId: number;
    if (input.user && (input.user.userId || input.user.username)) {
      const user = input.user.userId
        ? await this.deps.store.users.findById(input.user.userId)
        : await this.deps.store.users.findByName(input.user.username!);
      if (!user)
        throw new AppError('NOT_FOUND', `user ${input.user.userId ?? input.user.username} not found`);
      type = 'u';
      entityId = user.id;
    } else if (input.group && (input.group.id || input.group.groupName || input.group.ldapGroupDn)) {
      entityId = await this.groupId(input.group, now);
      type = 'g';
    } else {
      throw new AppError('BAD_REQUEST', 'give member_user (user_id or username) or member_group');
    }
    const id = await this.deps.store.members.create(projectId, type, entityId, input.roleId, now);
    if (id === undefined)
      throw new AppError('CONFLICT', 'that user or group is already a member of the project');
    return id;
  }

  async updateRole(projectId: number, memberId: number, roleId: number): Promise<void> {
    checkRole(roleId);
    await this.get(projectId, memberId);
    await this.deps.store.members.updateRole(
      projectId,
      memberId,
      roleId,
      this.deps.clock.now().toISOString(),
    );
  }

  async remove(projectId: number, memberId: number): Promise<void> {
    await this.get(projectId, memberId);
    await this.deps.store.members.delete(projectId, memberId);
  }

  private async groupId(g: NonNullable<NewMember['group']>, now: string): Promise<number> {
    if (g.id) {
      if (!(await this.deps.store.userGroups.findById(g.id)))
        throw new AppError('NOT_FOUND', `user group ${g.id} not found`);
      return g.id;
    }
    const type = g.groupType ?? (g.ldapGroupDn ? 1 : 3);
    if (![1, 2, 3].includes(type))
      throw new AppError('BAD_REQUEST', 'group_type must be 1 (LDAP), 2 (HTTP) or 3 (OIDC)');
    const key = type === 1 ? g.ldapGroupDn : g.groupName;
    if (!key)
      throw new AppError(
        'BAD_REQUEST',
        type === 1 ? 'an LDAP group needs ldap_group_dn' : 'the group needs group_name',
      );
    const found = await this.deps.store.userGroups.findByKey(type, key);
    if (found) return found.id;
    return this.deps.store.userGroups.create({
      group_name: g.groupName ?? key,
      group_type: type,
      ldap_group_dn: type === 1 ? key : '',
      creation_time: now,
      update_time: now,
    });
  }
}

function checkRole(roleId: number): void {
  if (!roleById(roleId))
    throw new AppError(
      'BAD_REQUEST',
      'role_id must be 1 (projectAdmin), 2 (developer), 3 (guest), 4 (maintainer) or 5 (limitedGuest)',
    );
}
