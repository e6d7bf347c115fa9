import { LdapProvider } from '../../auth/providers/ldap.js';
import { ldapOptions, type LdapOptions } from '../../auth/providers/options.js';
import type { ExternalIdentity } from '../../auth/providers/provider.js';
import { AppError } from '../../lib/errors.js';
import type { Log } from '../../lib/logger.js';

/** A directory to try: each field left out (or an empty password) takes the configured value. */
export interface LdapSettingsProbe {
  url?: string | undefined;
  searchDn?: string | undefined;
  searchPassword?: string | undefined;
  baseDn?: string | undefined;
  filter?: string | undefined;
  uid?: string | undefined;
  scope?: LdapOptions['scope'] | undefined;
  timeoutSeconds?: number | undefined;
  verifyCert?: boolean | undefined;
}

/** The directory configured under ldap_auth: how users are found and onboarded. */
export interface ConfiguredDirectory {
  provider: LdapProvider;
  options: LdapOptions;
  /** Creates (or refreshes) the local user for a directory entry, as a first login would. */
  onboard: (identity: ExternalIdentity) => Promise<unknown>;
}

const notConfigured = () =>
  new AppError(
    'PRECONDITION',
    'LDAP is not configured: set auth.mode to ldap_auth and the auth.ldap settings',
  );

/** Harbor's Ldap operations: ping a (changed) configuration, search users and groups, import users. */
export class LdapDirectory {
  constructor(private readonly deps: { configured?: ConfiguredDirectory | undefined; log: Log }) {}

  private directory(): ConfiguredDirectory {
    if (!this.deps.configured) throw notConfigured();
    return this.deps.configured;
  }

  /** Whether the configuration, changed by `probe`, reaches the directory; the failure's message if not. */
  async ping(probe: LdapSettingsProbe): Promise<{ success: boolean; message: string }> {
    const o: Partial<LdapOptions> = this.deps.configured?.options ?? {};
    // An empty password means "the one configured", as Harbor's UI never shows it.
    const parsed = ldapOptions.safeParse({
      ...o,
      url: probe.url ?? o.url,
      searchDn: probe.searchDn ?? o.searchDn,
      searchPassword: probe.searchPassword || o.searchPassword,
      baseDn: probe.baseDn ?? o.baseDn,
      filter: probe.filter ?? o.filter,
      uid: probe.uid ?? o.uid,
      scope: probe.scope ?? o.scope,
      timeoutSeconds: probe.timeoutSeconds ?? o.timeoutSeconds,
      verifyCert: probe.verifyCert ?? o.verifyCert,
    });
    if (!parsed.success) throw this.deps.configured ? parsed.error : notConfigured();
    try {
      await new LdapProvider({ options: parsed.data, log: this.deps.log }).ping();
      return { success: true, message: 'ldap ping succeeded' };
    } catch (err) {
      return { success: false, message: (err as Error).message };
    }
  }

  searchUsers(username: string | undefined): Promise<ExternalIdentity[]> {
    return this.directory().provider.searchUsers(username || undefined);
  }

  searchGroups(filter: { name?: string; dn?: string }) {
    return this.directory().provider.searchGroups(filter);
  }

  /** Onboards each uid as a first login would; the uids that failed, each with its reason. */
  async importUsers(uids: readonly string[]): Promise<{ uid: string; error: string }[]> {
    const directory = this.directory();
    const failed: { uid: string; error: string }[] = [];
    for (const uid of uids) {
      const identity = await directory.provider.lookupUser(uid);
      if (!identity) {
        failed.push({ uid, error: 'not found in the directory' });
        continue;
      }
      try {
        await directory.onboard(identity);
      } catch (err) {
        failed.push({ uid, error: (err as Error).message });
      }
    }
    return failed;
  }
}
