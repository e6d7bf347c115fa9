import { z } from 'zod';
import { preheatInstanceFields } from '../../db/repos/preheat-instances.js';
import type { P2pPreheatInstanceRow } from '../../db/tables.js';
import type { InstanceInput } from '../../services/preheat/preheat-instances.js';
import { maxProjectNameLength } from '../../services/projects/project-service.js';
import { authorize } from './access.js';
import type { ApiDeps } from './deps.js';
import { preheatPolicyRoutes } from './preheat-policy.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { projectFor } from './project.js';
import { listParams, type ApiRouter } from './router.js';

const tag = 'preheat';
const instanceTarget = { scope: 'system' as const, resource: 'preheat-instance' };
const instanceParams = z.object({ preheat_instance_name: z.string().min(1).max(255) });

const instanceBody = z.object({
  id: z.number().int().optional(),
  name: z.string().max(255).default(''),
  description: z.string().max(1024).optional(),
  vendor: z.string().max(32).default(''),
  endpoint: z.string().max(512).default(''),
  auth_mode: z.string().max(32).optional(),
  auth_info: z.record(z.string(), z.string()).nullish(),
  status: z.string().optional(),
  enabled: z.boolean().optional(),
  default: z.boolean().optional(),
  insecure: z.boolean().optional(),
  setup_timestamp: z.number().int().optional(),
});

function inputOf(b: z.output<typeof instanceBody>): InstanceInput {
  return {
    name: b.name,
    description: b.description,
    vendor: b.vendor,
    endpoint: b.endpoint,
    authMode: b.auth_mode,
    authInfo: b.auth_info ?? undefined,
    enabled: b.enabled,
    isDefault: b.default,
    insecure: b.insecure,
  };
}

/** Harbor's Instance model: credentials are never sent back, and the status is not kept. */
function renderInstance(r: P2pPreheatInstanceRow) {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    vendor: r.vendor,
    endpoint: r.endpoint,
    auth_mode: r.auth_mode,
    status: 'Unknown',
    enabled: r.enabled === 1,
    default: r.is_default === 1,
    insecure: r.insecure === 1,
    setup_timestamp: Number(r.setup_timestamp),
  };
}

/** Harbor's `preheat` tag: P2P provider instances (system scope) and the providers; policies in preheat-policy.ts. */
export function preheatRoutes(api: ApiRouter, deps: ApiDeps): void {
  const preheat = deps.preheat.instances;

  api.add({
    operationId: 'ListProviders',
    tag,
    method: 'GET',
    path: '/p2p/preheat/providers',
    summary: 'List P2P providers',
    status: 200,
    handler: async (_input, request) => {
      await authorize(request, deps.can, 'list', instanceTarget);
      return preheat.providers();
    },
  });

  api.add({
    operationId: 'PingInstances',
    tag,
    method: 'POST',
    path: '/p2p/preheat/instances/ping',
    summary: 'Ping status of a instance.',
    body: instanceBody,
    status: 200,
    handler: async ({ body }, request) => {
      await authorize(request, deps.can, 'read', instanceTarget);
      await preheat.ping(body.id && body.id > 0 ? { id: body.id } : inputOf(body));
      return undefined;
    },
  });

  api.add({
    operationId: 'ListInstances',
    tag,
    method: 'GET',
    path: '/p2p/preheat/instances',
    summary: 'List P2P provider instances',
    query: z.object(listParams),
    status: 200,
    headers: ['X-Total-Count', 'Link'],
    handler: async ({ query }, request, reply) => {
      await authorize(request, deps.can, 'list', instanceTarget);
      const list = parseListQuery(query, preheatInstanceFields);
      const page = await preheat.list(list);
      setPageHeaders(request, reply, page.total, list);
      return page.items.map(renderInstance);
    },
  });

  api.add({
    operationId: 'CreateInstance',
    tag,
    method: 'POST',
    path: '/p2p/preheat/instances',
    summary: 'Create p2p provider instances',
    body: instanceBody,
    status: 201,
    headers: ['Location'],
    handler: async ({ body }, request, reply) => {
      await authorize(request, deps.can, 'create', instanceTarget);
      const row = await preheat.create(inputOf(body));
      reply.header('Location', `/api/v2.0/p2p/preheat/instances/${row.name}`);
      return undefined;
    },
  });

  api.add({
    operationId: 'GetInstance',
    tag,
    method: 'GET',
    path: '/p2p/preheat/instances/{preheat_instance_name}',
    summary: 'Get a P2P provider instance',
    params: instanceParams,
    status: 200,
    handler: async ({ params }, request) => {
      await authorize(request, deps.can, 'read', instanceTarget);
      return renderInstance(await preheat.get(params.preheat_instance_name));
    },
  });

  api.add({
    operationId: 'DeleteInstance',
    tag,
    method: 'DELETE',
    path: '/p2p/preheat/instances/{preheat_instance_name}',
    summary: 'Delete the specified P2P provider instance',
    params: instanceParams,
    status: 200,
    handler: async ({ params }, request) => {
      await authorize(request, deps.can, 'delete', instanceTarget);
      await preheat.delete(params.preheat_instance_name);
      return undefined;
    },
  });

  api.add({
    operationId: 'UpdateInstance',
    tag,
    method: 'PUT',
    path: '/p2p/preheat/instances/{preheat_instance_name}',
    summary: 'Update the specified P2P provider instance',
    params: instanceParams,
    body: instanceBody,
    status: 200,
    handler: async ({ params, body }, request) => {
      await authorize(request, deps.can, 'update', instanceTarget);
      await preheat.update(params.preheat_instance_name, inputOf(body));
      return undefined;
    },
  });

  api.add({
    operationId: 'ListProvidersUnderProject',
    tag,
    method: 'GET',
    path: '/projects/{project_name}/preheat/providers',
    summary: 'Get all providers at project level',
    params: z.object({ project_name: z.string().min(1).max(maxProjectNameLength) }),
    status: 200,
    handler: async ({ params }, request) => {
      await projectFor(deps, request, params.project_name, 'list', 'preheat-policy', true);
      return (await preheat.all()).map((i) => ({
        id: i.id,
        provider: `${i.vendor} ${i.name}-${i.endpoint}`,
        default: i.is_default === 1,
        enabled: i.enabled === 1,
      }));
    },
  });
  preheatPolicyRoutes(api, deps);
}
