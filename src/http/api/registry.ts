import { z } from 'zod';
import { registryFields } from '../../db/repos/registries.js';
import type { Replication } from '../../services/replication/replication.js';
import { authorize, type Can } from './access.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { listParams, q, type ApiRouter } from './router.js';

const system = (resource: string) => ({ scope: 'system' as const, resource });
const idParams = z.object({ id: q.id });
const credential = z
  .object({
    type: z.enum(['basic', 'oauth', 'secret']).optional(),
    access_key: z.string().max(1024).optional(),
    access_secret: z.string().max(65536).optional(),
  })
  .strict();
const registryBody = z
  .object({
    id: z.number().optional(),
    name: z.string().trim().min(1, 'the registry name is required').max(255),
    type: z.string().min(1),
    url: z.string().min(1).max(2048),
    description: z.string().max(1024).optional(),
    credential: credential.nullable().optional(),
    insecure: z.boolean().optional(),
    ca_certificate: z.string().optional(),
    status: z.string().optional(),
    creation_time: z.string().optional(),
    update_time: z.string().optional(),
  })
  .strict();
const updateBody = z
  .object({
    name: z.string().trim().min(1).max(255).optional(),
    description: z.string().max(1024).optional(),
    url: z.string().min(1).max(2048).optional(),
    credential_type: z.enum(['basic', 'oauth', 'secret']).optional(),
    access_key: z.string().max(1024).optional(),
    access_secret: z.string().max(65536).optional(),
    insecure: z.boolean().optional(),
    ca_certificate: z.string().optional(),
  })
  .strict();
const pingBody = updateBody.omit({ name: true, description: true }).extend({
  id: z.number().int().min(1).optional(),
  type: z.string().optional(),
});

/** Harbor's `registry` swagger tag: replication endpoints (system administrators only). */
export function registryRoutes(api: ApiRouter, deps: { can: Can; replication: Replication }): void {
  const { registries } = deps.replication;
  const tag = 'registry';

  api.add({
    operationId: 'createRegistry',
    tag,
    method: 'POST',
    path: '/registries',
    summary: 'Create a registry',
    body: registryBody,
    status: 201,
    headers: ['Location'],
    async handler({ body }, request, reply) {
      await authorize(request, deps.can, 'create', system('registry'));
      const row = await registries.create({
        name: body.name,
        type: body.type,
        url: body.url,
        description: body.description,
        credentialType: body.credential?.type,
        accessKey: body.credential?.access_key,
        accessSecret: body.credential?.access_secret,
        insecure: body.insecure,
      });
      reply.header('location', `/api/v2.0/registries/${row.id}`);
      return undefined;
    },
  });

  api.add({
    operationId: 'listRegistries',
    tag,
    method: 'GET',
    path: '/registries',
    summary: 'List the registries',
    query: z.object({ ...listParams, name: z.string().optional() }),
    status: 200,
    headers: ['X-Total-Count', 'Link'],
    async handler({ query }, request, reply) {
      await authorize(request, deps.can, 'list', system('registry'));
      const list = parseListQuery(query, registryFields);
      // Harbor's older `name` parameter is a substring match, like q=name=~….
      if (query.name && !list.keywords.name) list.keywords.name = { kind: 'fuzzy', value: query.name };
      const page = await registries.list(list);
      setPageHeaders(request, reply, page.total, list);
      return page.items.map((r) => registries.view(r));
    },
  });

  api.add({
    operationId: 'getRegistry',
    tag,
    method: 'GET',
    path: '/registries/{id}',
    summary: 'Get the specific registry',
    params: idParams,
    status: 200,
    async handler({ params }, request) {
      await authorize(request, deps.can, 'read', system('registry'));
      return registries.view(await registries.get(params.id));
    },
  });

  api.add({
    operationId: 'updateRegistry',
    tag,
    method: 'PUT',
    path: '/registries/{id}',
    summary: 'Update the registry',
    params: idParams,
    body: updateBody,
    status: 200,
    async handler({ params, body }, request) {
      await authorize(request, deps.can, 'update', system('registry'));
      await registries.update(params.id, {
        name: body.name,
        description: body.description,
        url: body.url,
        credentialType: body.credential_type,
        accessKey: body.access_key,
        accessSecret: body.access_secret,
        insecure: body.insecure,
      });
      return undefined;
    },
  });

  api.add({
    operationId: 'deleteRegistry',
    tag,
    method: 'DELETE',
    path: '/registries/{id}',
    summary: 'Delete the specific registry',
    params: idParams,
    status: 200,
    async handler({ params }, request) {
      await authorize(request, deps.can, 'delete', system('registry'));
      await registries.delete(params.id);
      return undefined;
    },
  });

  api.add({
    operationId: 'pingRegistry',
    tag,
    method: 'POST',
    path: '/registries/ping',
    summary: 'Check status of a registry',
    body: pingBody,
    status: 200,
    async handler({ body }, request) {
      await authorize(request, deps.can, 'create', system('registry'));
      await registries.ping({
        id: body.id,
        type: body.type,
        url: body.url,
        credentialType: body.credential_type,
        accessKey: body.access_key,
        accessSecret: body.access_secret,
        insecure: body.insecure,
      });
      return undefined;
    },
  });

  api.add({
    operationId: 'getRegistryInfo',
    tag,
    method: 'GET',
    path: '/registries/{id}/info',
    summary: 'Get the registry info',
    params: idParams,
    status: 200,
    async handler({ params }, request) {
      await authorize(request, deps.can, 'read', system('registry'));
      return registries.info(params.id);
    },
  });

  api.add({
    operationId: 'listRegistryProviderTypes',
    tag,
    method: 'GET',
    path: '/replication/adapters',
    summary: 'List registry adapters',
    status: 200,
    async handler(_input, request) {
      await authorize(request, deps.can, 'list', system('replication-adapter'));
      return registries.adapters();
    },
  });

  api.add({
    operationId: 'listRegistryProviderInfos',
    tag,
    method: 'GET',
    path: '/replication/adapterinfos',
    summary: 'List all registered registry provider information',
    status: 200,
    async handler(_input, request) {
      await authorize(request, deps.can, 'list', system('replication-adapter'));
      return registries.adapterInfos();
    },
  });
}
