import type { MetaStore } from '../../db/store.js';
import type { UserGroupRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';

/** Harbor's group types. */
export const groupTypes = { ldap: 1, http: 2, oidc: 3 } as const;

export interface UserGroupInput {
  group_name?: string | undefined;
  group_type?: number | undefined;
  ldap_group_dn?: string | undefined;
}

/**
 * User groups (LDAP groups by DN, HTTP and OIDC groups by name) that can be made project members. Groups
 * also appear on their own when LDAP or OIDC users log in; this is the administrators' view of them.
 */
export class UserGroupService {
  constructor(
    private readonly deps: {
      store: Pick<MetaStore, 'transaction' | 'userGroups'>;
      clock: Clock;
      /** The instance's auth mode: under ldap_auth, lists show LDAP groups only (as Harbor). */
      authMode?: string;
    },
  ) {}

  async get(id: number): Promise<UserGroupRow> {
    const row = await this.deps.store.userGroups.findById(id);
    if (!row) throw new AppError('NOT_FOUND', `user group ${id} not found`);
    return row;
  }

  /** Groups by name; under ldap_auth only LDAP groups, which `ldapGroupDn` may narrow (as Harbor). */
  list(q: {
    groupName?: string | undefined;
    ldapGroupDn?: string | undefined;
    offset: number;
    limit: number;
  }) {
    const ldapMode = this.deps.authMode === 'ldap_auth';
    return this.deps.store.userGroups.list({
      ...(q.groupName ? { groupName: q.groupName } : {}),
      ...(ldapMode ? { groupType: groupTypes.ldap } : {}),
      ...(ldapMode && q.ldapGroupDn ? { ldapGroupDn: q.ldapGroupDn } : {}),
      offset: q.offset,
      limit: q.limit,
    });
  }

  /** A name is always needed (as Harbor); an LDAP group also needs its DN, which identifies it. */
  async create(input: UserGroupInput): Promise<number> {
    const name = checkName(input.group_name);
    const type = input.group_type;
    if (type !== groupTypes.ldap && type !== groupTypes.http && type !== groupTypes.oidc)
      throw new AppError('BAD_REQUEST', 'group_type must be 1 (LDAP), 2 (HTTP) or 3 (OIDC)');
    const dn = (input.ldap_group_dn ?? '').trim();
    if (type === groupTypes.ldap) {
      if (!/^[A-Za-z][\w.-]*=[^,]+(,\s*[A-Za-z][\w.-]*=[^,]+)*$/.test(dn) || dn.length > 1024)
        throw new AppError(
          'BAD_REQUEST',
          'an LDAP group needs ldap_group_dn, a DN such as cn=devs,ou=groups,dc=x',
        );
    } else if (dn !== '') {
      throw new AppError('BAD_REQUEST', 'ldap_group_dn is only for LDAP groups (group_type 1)');
    }
    const key = type === groupTypes.ldap ? dn : name;
    if (await this.deps.store.userGroups.findByKey(type, key))
      throw new AppError('CONFLICT', `a user group ${key} of type ${type} already exists`);
    const now = this.deps.clock.now().toISOString();
    return this.deps.store.userGroups.create({
      group_name: name,
      group_type: type,
      ldap_group_dn: dn,
      creation_time: now,
      update_time: now,
    });
  }

  /** Only the name changes (as Harbor); a different type or DN is refused rather than ignored. */
  async update(id: number, input: UserGroupInput): Promise<void> {
    const row = await this.get(id);
    const name = checkName(input.group_name);
    if (input.group_type !== undefined && input.group_type !== row.group_type)
      throw new AppError('BAD_REQUEST', 'the type of a user group cannot be changed');
    if (input.ldap_group_dn !== undefined && input.ldap_group_dn.trim() !== row.ldap_group_dn)
      throw new AppError('BAD_REQUEST', 'the DN of an LDAP group cannot be changed');
    if (row.group_type !== groupTypes.ldap && name !== row.group_name) {
      const other = await this.deps.store.userGroups.findByKey(row.group_type, name);
      if (other && other.id !== id) throw new AppError('CONFLICT', `a user group ${name} already exists`);
    }
    await this.deps.store.userGroups.update(id, {
      group_name: name,
      update_time: this.deps.clock.now().toISOString(),
    });
  }

  /** Deletes the group and its project memberships. */
  async delete(id: number): Promise<void> {
    await this.get(id);
    await this.deps.store.transaction((tx) => tx.userGroups.delete(id));
  }
}

function checkName(name: string | undefined): string {
  const n = (name ?? '').trim();
  if (n === '') throw new AppError('BAD_REQUEST', 'group_name is required');
  if (n.length > 255) throw new AppError('BAD_REQUEST', 'group_name is longer than 255 characters');
  return n;
}
