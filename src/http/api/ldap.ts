import { z } from 'zod';
import { LdapProvider } from '../../auth/providers/ldap.js';
import { ldapOptions, type LdapOptions } from '../../auth/providers/options.js';
import { AppError } from '../../lib/errors.js';
import type { ExternalIdentity } from '../../auth/providers/provider.js';
import type { Log } from '../../lib/logger.js';
import { authorize, type Can } from './access.js';
import type { ApiRouter } from './router.js';

export interface LdapApiDeps {
  /** The configured directory (auth.ldap), when auth.mode is ldap_auth. */
  ldap?: {
    provider: LdapProvider;
    /** Its options, so /ldap/ping can try a changed configuration on top of them. */
    options: LdapOptions;
    /** Creates (or refreshes) the local user for a directory entry, as a first login would. */
    onboard: (identity: ExternalIdentity) => Promise<unknown>;
  };
  log: Log;
}

const notConfigured = () =>
  new AppError(
    'PRECONDITION',
    'LDAP is not configured: set auth.mode to ldap_auth and the auth.ldap settings',
  );

const system = (resource: string) => ({ scope: 'system', resource }) as const;
const scopes = ['base', 'one', 'sub'] as const;

const ldapConf = z
  .object({
    ldap_url: z.string().optional(),
    ldap_search_dn: z.string().optional(),
    ldap_search_password: z.string().optional(),
    ldap_base_dn: z.string().optional(),
    ldap_filter: z.string().optional(),
    ldap_uid: z.string().optional(),
    ldap_scope: z.number().int().min(0).max(2).optional(),
    ldap_connection_timeout: z.number().int().min(1).optional(),
    ldap_verify_cert: z.boolean().optional(),
  })
  .strict()
  .optional();

/** Harbor's Ldap tag: ping, user search and import, group search (sysadmin only). */
export function ldapRoutes(api: ApiRouter, can: Can, deps: LdapApiDeps): void {
  const directory = () => {
    if (!deps.ldap) throw notConfigured();
    return deps.ldap;
  };
  api.add({
    operationId: 'pingLdap',
    tag: 'Ldap',
    method: 'POST',
    path: '/ldap/ping',
    summary: 'Ping available ldap service.',
    body: ldapConf,
    status: 200,
    response: z.object({ success: z.boolean(), message: z.string() }),
    handler: async ({ body }, req) => {
      await authorize(req, can, 'read', system('configuration'));
      const o: Partial<LdapOptions> = deps.ldap?.options ?? {};
      // An empty password in the body means "the one configured", as Harbor's UI never shows it.
      const parsed = ldapOptions.safeParse({
        ...o,
        url: body?.ldap_url ?? o.url,
        searchDn: body?.ldap_search_dn ?? o.searchDn,
        searchPassword: body?.ldap_search_password || o.searchPassword,
        baseDn: body?.ldap_base_dn ?? o.baseDn,
        filter: body?.ldap_filter ?? o.filter,
        uid: body?.ldap_uid ?? o.uid,
        scope: body?.ldap_scope === undefined ? o.scope : scopes[body.ldap_scope]!,
        timeoutSeconds: body?.ldap_connection_timeout ?? o.timeoutSeconds,
        verifyCert: body?.ldap_verify_cert ?? o.verifyCert,
      });
      if (!parsed.success) throw deps.ldap ? parsed.error : notConfigured();
      const options = parsed.data;
      try {
        await new LdapProvider({ options, log: deps.log }).ping();
        return { success: true, message: 'ldap ping succeeded' };
      } catch (err) {
        return { success: false, message: (err as Error).message };
      }
    },
  });

  api.add({
    operationId: 'searchLdapUser',
    tag: 'Ldap',
    method: 'GET',
    path: '/ldap/users/search',
    summary: 'Search available ldap users.',
    query: z.object({ username: z.string().max(255).optional() }),
    status: 200,
    handler: async ({ query }, req) => {
      await authorize(req, can, 'list', system('ldap-user'));
      const users = await directory().provider.searchUsers(query.username || undefined);
      return users.map((u) => ({ username: u.username, realname: u.realname ?? '', email: u.email ?? '' }));
    },
  });

  api.add({
    operationId: 'importLdapUser',
    tag: 'Ldap',
    method: 'POST',
    path: '/ldap/users/import',
    summary: 'Import selected available ldap users.',
    body: z.object({ ldap_uid_list: z.array(z.string().min(1).max(255)).min(1).max(1000) }).strict(),
    status: 200,
    handler: async ({ body }, req, reply) => {
      await authorize(req, can, 'create', system('ldap-user'));
      const failed: { uid: string; error: string }[] = [];
      for (const uid of body.ldap_uid_list) {
        const identity = await directory().provider.lookupUser(uid);
        if (!identity) {
          failed.push({ uid, error: 'not found in the directory' });
          continue;
        }
        try {
          await directory().onboard(identity);
        } catch (err) {
          failed.push({ uid, error: (err as Error).message });
        }
      }
      // Harbor answers 404 with the uids it could not import.
      if (failed.length > 0) return reply.code(404).send(failed);
      return undefined;
    },
  });

  api.add({
    operationId: 'searchLdapGroup',
    tag: 'Ldap',
    method: 'GET',
    path: '/ldap/groups/search',
    summary: 'Search available ldap groups.',
    query: z.object({ groupname: z.string().max(255).optional(), groupdn: z.string().max(1024).optional() }),
    status: 200,
    handler: async ({ query }, req) => {
      await authorize(req, can, 'list', system('ldap-user'));
      const groups = await directory().provider.searchGroups({
        ...(query.groupname ? { name: query.groupname } : {}),
        ...(query.groupdn ? { dn: query.groupdn } : {}),
      });
      return groups.map((g) => ({ group_name: g.name, group_type: 1, ldap_group_dn: g.dn }));
    },
  });
}
