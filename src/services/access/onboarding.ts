import { randomBytes } from 'node:crypto';
import { firstRdnValue } from '../../auth/providers/ldap-filter.js';
import { groupTypes, type ExternalIdentity } from '../../auth/providers/provider.js';
import type { MetaStore } from '../../db/store.js';
import type { UserRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { Sealer } from './oidc-login.js';

export interface OnboardingDeps {
  store: Pick<MetaStore, 'userGroups' | 'users'>;
  clock: Clock;
  /** Seals OIDC users' CLI secrets (Keys.box): readable by their owner, so encrypted, not hashed. */
  box: Sealer;
}

/** A CLI secret as Harbor makes them: 32 URL-safe characters. */
export function newCliSecret(): string {
  return randomBytes(24).toString('base64url');
}

/**
 * Local rows for users an external provider vouched for (Harbor's onboarding): created at the first
 * login (LDAP bind, OIDC callback) and refreshed at every later one: e-mail and name, the provider's admin
 * verdict (`admin_in_auth`), and group memberships replaced by the provider's groups. Groups are created
 * on sight, as Harbor's Populate does: LDAP groups by DN (type 1, named after the DN's first value), OIDC
 * groups by name (type 3). A group gives project roles only once an admin makes it a project member.
 */
export class Onboarding {
  constructor(private readonly deps: OnboardingDeps) {}

  async onboard(identity: ExternalIdentity, source: 'ldap' | 'oidc'): Promise<UserRow> {
    const { store, clock } = this.deps;
    const now = clock.now().toISOString();
    let row = await store.users.findByName(identity.username);
    if (row && row.auth_source !== source) {
      throw new AppError('CONFLICT', `user ${identity.username} exists with another authentication source`);
    }
    // Another person at the IdP with the same username must not take over this account.
    if (row && source === 'oidc' && row.external_subject && row.external_subject !== identity.subject) {
      throw new AppError(
        'CONFLICT',
        `user ${identity.username} is bound to another identity at the provider`,
      );
    }
    const adminInAuth = identity.sysadmin ? 1 : 0;
    if (!row) {
      await store.users.create({
        username: identity.username,
        email: identity.email ?? null,
        realname: identity.realname ?? '',
        comment: source === 'ldap' ? 'onboarded from LDAP' : 'onboarded from OIDC',
        sysadmin: 0,
        admin_in_auth: adminInAuth,
        auth_source: source,
        external_subject: identity.subject ?? null,
        cli_secret: source === 'oidc' ? this.deps.box.seal(newCliSecret()) : null,
        cli_secret_time: source === 'oidc' ? now : null,
        creation_time: now,
        update_time: now,
      });
      row = await store.users.findByName(identity.username);
      if (!row)
        throw new AppError('INTERNAL_SERVER_ERROR', `user ${identity.username} vanished while onboarding`);
    } else {
      const changes: Partial<UserRow> = {};
      if (identity.email && identity.email !== row.email) changes.email = identity.email;
      if (identity.realname && identity.realname !== row.realname) changes.realname = identity.realname;
      if (identity.subject && identity.subject !== row.external_subject)
        changes.external_subject = identity.subject;
      if (adminInAuth !== row.admin_in_auth) changes.admin_in_auth = adminInAuth;
      if (source === 'oidc' && !row.cli_secret) {
        changes.cli_secret = this.deps.box.seal(newCliSecret());
        changes.cli_secret_time = now;
      }
      if (Object.keys(changes).length > 0) {
        await store.users.update(row.id, { ...changes, update_time: now });
        row = { ...row, ...changes };
      }
    }
    await store.users.setGroups(row.id, await this.groupIds(identity.groups, source, now));
    return row;
  }

  private async groupIds(keys: readonly string[], source: 'ldap' | 'oidc', now: string): Promise<number[]> {
    const type = source === 'ldap' ? groupTypes.ldap : groupTypes.oidc;
    const ids: number[] = [];
    for (const key of keys) {
      let group = await this.deps.store.userGroups.findByKey(type, key);
      if (!group) {
        await this.deps.store.userGroups.create({
          group_name: source === 'ldap' ? firstRdnValue(key) : key,
          group_type: type,
          ldap_group_dn: source === 'ldap' ? key : '',
          creation_time: now,
          update_time: now,
        });
        // Re-read: a concurrent first login may have created it too; everyone settles on one row.
        group = await this.deps.store.userGroups.findByKey(type, key);
      }
      if (group) ids.push(group.id);
    }
    return ids;
  }
}
