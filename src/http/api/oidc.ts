import { z } from 'zod';
import { pingOidcEndpoint } from '../../services/settings/oidc-ping.js';
import { authorize } from './access.js';
import type { ApiDeps } from './deps.js';
import type { ApiRouter } from './router.js';

/** Harbor's `oidc` tag: check an OIDC endpoint before saving it as the configured provider. */
export function oidcRoutes(api: ApiRouter, deps: ApiDeps): void {
  api.add({
    operationId: 'pingOIDC',
    tag: 'oidc',
    method: 'POST',
    path: '/system/oidc/ping',
    summary: 'Test the OIDC endpoint.',
    body: z.object({ url: z.string().max(2048), verify_cert: z.boolean().optional() }),
    status: 200,
    handler: async ({ body }, request) => {
      await authorize(request, deps.can, 'update', { scope: 'system', resource: 'configuration' });
      await pingOidcEndpoint(request.log, { url: body.url, verifyCert: body.verify_cert ?? true });
      return undefined;
    },
  });
}
