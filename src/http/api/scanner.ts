import { z } from 'zod';
import { scannerFields } from '../../db/repos/scanner-registrations.js';
import type { RegistrationInput } from '../../services/scanning/registrations/scanner-registrations.js';
import { authorize } from './access.js';
import type { ApiDeps } from './deps.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { listParams, type ApiRouter } from './router.js';

const system = { scope: 'system' as const, resource: 'scanner' };
const idParams = z.object({ registration_id: z.string().min(1).max(64) });

/**
 * Harbor's ScannerRegistrationReq. Not strict: Harbor ignores unknown fields, and its UI sends back
 * what a GET gave (uuid, is_default, health, ...), which is read-only here.
 */
const registrationBody = z.object({
  name: z.string().max(128).optional().default(''),
  description: z.string().max(1024).optional(),
  url: z.string().max(512).optional().default(''),
  auth: z.string().max(32).optional(),
  access_credential: z.string().max(4096).optional(),
  skip_certVerify: z.boolean().optional(),
  use_internal_addr: z.boolean().optional(),
  disabled: z.boolean().optional(),
});
const settingsBody = registrationBody.pick({ name: true, url: true, auth: true, access_credential: true });

function inputOf(body: z.infer<typeof registrationBody>): RegistrationInput {
  return {
    name: body.name,
    url: body.url,
    description: body.description,
    auth: body.auth,
    accessCredential: body.access_credential,
    skipCertVerify: body.skip_certVerify,
    useInternalAddr: body.use_internal_addr,
    disabled: body.disabled,
  };
}

/** Harbor's `scanner` swagger tag: scanner registrations, the default one, ping and metadata. */
export function scannerRoutes(api: ApiRouter, deps: ApiDeps): void {
  const { scanners } = deps;
  const tag = 'scanner';

  api.add({
    operationId: 'listScanners',
    tag,
    method: 'GET',
    path: '/scanners',
    summary: 'List scanner registrations',
    query: z.object({
      ...listParams,
      name: z.string().optional(),
      description: z.string().optional(),
      url: z.string().optional(),
      ex_name: z.string().optional(),
      ex_url: z.string().optional(),
    }),
    status: 200,
    headers: ['X-Total-Count', 'Link'],
    async handler({ query }, request, reply) {
      await authorize(request, deps.can, 'list', system);
      const list = parseListQuery(query, scannerFields);
      // Harbor's older parameters: name/description/url match a part, ex_name/ex_url the whole value.
      for (const key of ['name', 'description', 'url'] as const)
        if (query[key]) list.keywords[key] = { kind: 'fuzzy', value: query[key] };
      if (query.ex_name) list.keywords.name = { kind: 'exact', value: query.ex_name };
      if (query.ex_url) list.keywords.url = { kind: 'exact', value: query.ex_url };
      const page = await scanners.list(list);
      setPageHeaders(request, reply, page.total, list);
      return page.items;
    },
  });

  api.add({
    operationId: 'createScanner',
    tag,
    method: 'POST',
    path: '/scanners',
    summary: 'Create a scanner registration',
    body: registrationBody,
    status: 201,
    headers: ['Location'],
    async handler({ body }, request, reply) {
      await authorize(request, deps.can, 'create', system);
      const uuid = await scanners.create(inputOf(body));
      reply.header('location', `/api/v2.0/scanners/${uuid}`);
      return undefined;
    },
  });

  api.add({
    operationId: 'pingScanner',
    tag,
    method: 'POST',
    path: '/scanners/ping',
    summary: 'Tests scanner registration settings',
    body: settingsBody,
    status: 200,
    async handler({ body }, request) {
      await authorize(request, deps.can, 'read', system);
      await scanners.ping(inputOf(body));
      return undefined;
    },
  });

  api.add({
    operationId: 'getScanner',
    tag,
    method: 'GET',
    path: '/scanners/{registration_id}',
    summary: 'Get a scanner registration details',
    params: idParams,
    status: 200,
    async handler({ params }, request) {
      await authorize(request, deps.can, 'read', system);
      return scanners.get(params.registration_id);
    },
  });

  api.add({
    operationId: 'updateScanner',
    tag,
    method: 'PUT',
    path: '/scanners/{registration_id}',
    summary: 'Update a scanner registration',
    params: idParams,
    body: registrationBody,
    status: 200,
    async handler({ params, body }, request) {
      await authorize(request, deps.can, 'update', system);
      await scanners.update(params.registration_id, inputOf(body));
      return undefined;
    },
  });

  api.add({
    operationId: 'deleteScanner',
    tag,
    method: 'DELETE',
    path: '/scanners/{registration_id}',
    summary: 'Delete a scanner registration',
    params: idParams,
    status: 200,
    async handler({ params }, request) {
      await authorize(request, deps.can, 'delete', system);
      return scanners.delete(params.registration_id);
    },
  });

  api.add({
    operationId: 'setScannerAsDefault',
    tag,
    method: 'PATCH',
    path: '/scanners/{registration_id}',
    summary: 'Set system default scanner registration',
    params: idParams,
    body: z.object({ is_default: z.boolean().optional() }),
    status: 200,
    async handler({ params, body }, request) {
      await authorize(request, deps.can, 'update', system);
      // Harbor only ever sets a default here; is_default false changes nothing.
      if (body.is_default) await scanners.setDefault(params.registration_id);
      return undefined;
    },
  });

  api.add({
    operationId: 'getScannerMetadata',
    tag,
    method: 'GET',
    path: '/scanners/{registration_id}/metadata',
    summary: 'Get the metadata of the specified scanner registration',
    params: idParams,
    status: 200,
    async handler({ params }, request) {
      await authorize(request, deps.can, 'read', system);
      return scanners.metadata(params.registration_id);
    },
  });
}
