import type { Client, Entry } from 'ldapts';
import { AppError } from '../../lib/errors.js';
import type { Log } from '../../lib/logger.js';
import {
  andFilter,
  dnUnder,
  escapeFilterValue,
  firstRdnValue,
  normalizeDn,
  wrapFilter,
} from './ldap-filter.js';
import type { LdapOptions } from './options.js';
import type { ExternalIdentity, IdentityProvider } from './provider.js';

export interface LdapProviderDeps {
  options: LdapOptions;
  log: Log;
}

interface FoundUser {
  dn: string;
  identity: ExternalIdentity;
}

/**
 * Search-then-bind against an LDAP directory: the search account finds the single entry whose uid
 * attribute equals the login name, then a bind as that entry's DN checks the password. Groups come from
 * the entry's membership attribute (memberOf) and, when a group base DN is set, from a search for groups
 * that name the user (member / uniqueMember by DN, memberUid by uid).
 */
let ldaptsModule: Promise<typeof import('ldapts')> | undefined;
/** ldapts loads with the first directory call, not at start: most nodes never talk LDAP. */
const ldapts = () => (ldaptsModule ??= import('ldapts'));

export class LdapProvider implements IdentityProvider {
  readonly mode = 'ldap_auth' as const;
  private readonly options: LdapOptions;
  private readonly log: Log;

  constructor(deps: LdapProviderDeps) {
    this.options = deps.options;
    this.log = deps.log;
  }

  async authenticate(username: string, password: string): Promise<ExternalIdentity | null> {
    // An empty password would be an unauthenticated bind, which directories accept (RFC 4513 5.1.2).
    if (!username || !password) return null;
    const found = await this.findUser(username);
    if (!found) return null;
    const { InvalidCredentialsError } = await ldapts();
    const client = await this.client();
    try {
      await client.bind(found.dn, password);
    } catch (err) {
      if (err instanceof InvalidCredentialsError) return null;
      throw this.unavailable(err);
    } finally {
      await client.unbind().catch(() => undefined);
    }
    return found.identity;
  }

  async lookupUser(username: string): Promise<ExternalIdentity | null> {
    return (await this.findUser(username))?.identity ?? null;
  }

  async lookupGroup(dn: string): Promise<{ name: string; dn: string } | null> {
    const o = this.options;
    if (o.groupBaseDn && !dnUnder(dn, o.groupBaseDn)) return null;
    return this.withSearchClient(async (client) => {
      try {
        const { searchEntries } = await client.search(dn, {
          scope: 'base',
          filter: wrapFilter(o.groupFilter) ?? '(objectClass=*)',
          attributes: [o.groupAttribute],
          timeLimit: Math.ceil(o.timeoutSeconds),
        });
        const entry = searchEntries[0];
        if (!entry) return null;
        return { name: attr(entry, o.groupAttribute)[0] ?? firstRdnValue(entry.dn), dn: entry.dn };
      } catch (err) {
        if ((err as { code?: number }).code === 32) return null; // noSuchObject
        throw err;
      }
    });
  }

  /** Checks that the directory answers and the search account can bind (Harbor's /ldap/ping). */
  async ping(): Promise<void> {
    await this.withSearchClient(async () => undefined);
  }

  /**
   * Users for Harbor's /ldap/users/search: the one whose uid attribute equals `username`, or, without a
   * name, every user the filter admits (up to `limit`). Groups are not resolved here.
   */
  async searchUsers(username: string | undefined, limit = 100): Promise<ExternalIdentity[]> {
    return this.withSearchClient(async (client) => {
      const entries = await this.userEntries(client, username ? escapeFilterValue(username) : '*', limit);
      return entries.map((e) => this.identityOf(e, username, []));
    });
  }

  /** Groups for Harbor's /ldap/groups/search: by DN, or by name attribute within the group base DN. */
  async searchGroups(query: { name?: string; dn?: string }): Promise<{ name: string; dn: string }[]> {
    const o = this.options;
    if (query.dn) {
      const group = await this.lookupGroup(query.dn);
      return group && (!query.name || group.name === query.name) ? [group] : [];
    }
    if (!o.groupBaseDn) return [];
    const byName = query.name ? `(${o.groupAttribute}=${escapeFilterValue(query.name)})` : undefined;
    return this.withSearchClient(async (client) => {
      const { searchEntries } = await client.search(o.groupBaseDn!, {
        scope: o.groupScope,
        filter: andFilter(wrapFilter(o.groupFilter) ?? '(objectClass=*)', byName),
        attributes: [o.groupAttribute],
        sizeLimit: 1000,
        timeLimit: Math.ceil(o.timeoutSeconds),
      });
      return searchEntries
        .filter((e) => normalizeDn(e.dn) !== normalizeDn(o.groupBaseDn!))
        .map((e) => ({ name: attr(e, o.groupAttribute)[0] ?? firstRdnValue(e.dn), dn: e.dn }));
    });
  }

  private async findUser(username: string): Promise<FoundUser | null> {
    return this.withSearchClient(async (client) => {
      const entries = await this.userEntries(client, escapeFilterValue(username), 2);
      if (entries.length !== 1) {
        if (entries.length > 1)
          this.log.warn({ count: entries.length }, 'LDAP: login name matches several entries');
        return null;
      }
      const entry = entries[0]!;
      const name = this.identityOf(entry, username, []).username;
      const groups = await this.groupsOf(client, entry, name);
      return { dn: entry.dn, identity: this.identityOf(entry, username, groups) };
    });
  }

  /** User entries whose uid attribute matches `value` (already escaped, or `*`), at most `limit`. */
  private async userEntries(client: Client, value: string, limit: number): Promise<Entry[]> {
    const o = this.options;
    try {
      const { searchEntries } = await client.search(o.baseDn, {
        scope: o.scope,
        filter: andFilter(wrapFilter(o.filter), `(${o.uid}=${value})`),
        attributes: [o.uid, 'mail', 'email', 'cn', 'displayName', o.groupMembershipAttribute],
        sizeLimit: limit,
        timeLimit: Math.ceil(o.timeoutSeconds),
      });
      return searchEntries;
    } catch (err) {
      // sizeLimitExceeded: more entries than asked for; `limit + 1` stands for "too many".
      if ((err as { code?: number }).code === 4) return new Array<Entry>(limit + 1).fill({ dn: '' });
      throw err;
    }
  }

  private identityOf(entry: Entry, asked: string | undefined, groups: string[]): ExternalIdentity {
    const o = this.options;
    const names = attr(entry, o.uid);
    // The directory may match case-insensitively; Berth stores the name as the directory spells it.
    const name = names.find((v) => v.toLowerCase() === asked?.toLowerCase()) ?? names[0] ?? asked ?? '';
    const admin = o.groupAdminDn
      ? groups.some((g) => normalizeDn(g) === normalizeDn(o.groupAdminDn!))
      : false;
    return {
      username: name,
      email: attr(entry, 'mail')[0] ?? attr(entry, 'email')[0],
      realname: attr(entry, 'displayName')[0] ?? attr(entry, 'cn')[0],
      groups,
      subject: entry.dn,
      sysadmin: admin,
    };
  }

  private async groupsOf(client: Client, entry: Entry, uid: string): Promise<string[]> {
    const o = this.options;
    const byKey = new Map<string, string>();
    for (const dn of attr(entry, o.groupMembershipAttribute)) {
      if (!o.groupBaseDn || dnUnder(dn, o.groupBaseDn)) byKey.set(normalizeDn(dn), dn);
    }
    if (o.groupBaseDn) {
      const who = `(|(member=${escapeFilterValue(entry.dn)})(uniqueMember=${escapeFilterValue(entry.dn)})(memberUid=${escapeFilterValue(uid)}))`;
      const { searchEntries } = await client.search(o.groupBaseDn, {
        scope: o.groupScope,
        filter: andFilter(wrapFilter(o.groupFilter), who),
        attributes: ['1.1'],
        timeLimit: Math.ceil(o.timeoutSeconds),
      });
      for (const g of searchEntries) byKey.set(normalizeDn(g.dn), g.dn);
    }
    return [...byKey.values()];
  }

  private async client(): Promise<Client> {
    const { Client } = await ldapts();
    const ms = this.options.timeoutSeconds * 1000;
    return new Client({
      url: this.options.url,
      timeout: ms,
      connectTimeout: ms,
      // ldapts speaks TLS whenever tlsOptions is given, so only ldaps:// gets them.
      ...(this.options.url.startsWith('ldaps:')
        ? { tlsOptions: { rejectUnauthorized: this.options.verifyCert } }
        : {}),
    });
  }

  private async withSearchClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
    const client = await this.client().catch((err: unknown) => {
      throw this.unavailable(err);
    });
    try {
      if (this.options.searchDn) await client.bind(this.options.searchDn, this.options.searchPassword ?? '');
      return await fn(client);
    } catch (err) {
      throw this.unavailable(err);
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  /** Any failure other than a wrong user password: the directory is unreachable or misconfigured. */
  private unavailable(err: unknown): AppError {
    if (err instanceof AppError) return err;
    const message = (err as Error).message;
    this.log.error({ url: this.options.url, err: message }, 'LDAP directory failed');
    return new AppError(
      'UNAVAILABLE',
      'the LDAP directory could not be reached or refused the search account',
    );
  }
}

/** An entry's attribute values as strings, looked up case-insensitively. */
function attr(entry: Entry, name: string): string[] {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === name.toLowerCase());
  if (!key) return [];
  const v = entry[key];
  const list = Array.isArray(v) ? v : v === undefined ? [] : [v];
  return list.map((x) => (Buffer.isBuffer(x) ? x.toString('utf8') : String(x)));
}
