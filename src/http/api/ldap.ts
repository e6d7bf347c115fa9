import { z } from 'zod';
import type { LdapDirectory } from '../../services/access/ldap-directory.js';
import { authorize, type Can } from './access.js';
import type { ApiRouter } from './router.js';

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
export function ldapRoutes(api: ApiRouter, can: Can, directory: LdapDirectory): void {
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
      return directory.ping({
        url: body?.ldap_url,
        searchDn: body?.ldap_search_dn,
        searchPassword: body?.ldap_search_password,
        baseDn: body?.ldap_base_dn,
        filter: body?.ldap_filter,
        uid: body?.ldap_uid,
        scope: body?.ldap_scope === undefined ? undefined : scopes[body.ldap_scope],
        timeoutSeconds: body?.ldap_connection_timeout,
        verifyCert: body?.ldap_verify_cert,
      });
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
      const users = await directory.searchUsers(query.username);
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
      const failed = await directory.importUsers(body.ldap_uid_list);
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
      const groups = await directory.searchGroups({
        ...(query.groupname ? { name: query.groupname } : {}),
        ...(query.groupdn ? { dn: query.groupdn } : {}),
      });
      return groups.map((g) => ({ group_name: g.name, group_type: 1, ldap_group_dn: g.dn }));
    },
  });
}
