import type { ApiDeps } from './deps.js';
import type { ApiRouter } from './router.js';

/** Harbor's getCert (tag `systeminfo`): the registry's root CA for clients to trust, open to anyone. */
export function systeminfoCertRoutes(api: ApiRouter, deps: ApiDeps): void {
  api.add({
    operationId: 'getCert',
    tag: 'systeminfo',
    method: 'GET',
    path: '/systeminfo/getcert',
    summary: 'Get default root certificate.',
    status: 200,
    handler: async (_input, _request, reply) => {
      const cert = await deps.system.caCertificate();
      return reply
        .code(200)
        .type('application/octet-stream')
        .header('Content-Disposition', 'attachment; filename=ca.crt')
        .send(cert);
    },
  });
}
