import { z } from 'zod';
import { authorize, subjectOf } from './access.js';
import type { ApiDeps } from './deps.js';
import type { ApiRouter } from './router.js';

/** Harbor's systeminfo: what the UI and clients need to know about this instance. */
export function systeminfoRoutes(api: ApiRouter, deps: ApiDeps): void {
  const tag = 'systeminfo';
  api.add({
    operationId: 'getSystemInfo',
    tag,
    method: 'GET',
    path: '/systeminfo',
    summary: 'Get general system info',
    status: 200,
    response: z.object({
      auth_mode: z.string(),
      primary_auth_mode: z.boolean(),
      self_registration: z.boolean(),
      harbor_version: z.string(),
      current_time: z.string(),
      banner_message: z.string(),
      registry_url: z.string().optional(),
      external_url: z.string().optional(),
      project_creation_restriction: z.string().optional(),
      has_ca_root: z.boolean().optional(),
      read_only: z.boolean().optional(),
      notification_enable: z.boolean().optional(),
      registry_storage_provider_name: z.string().optional(),
      oidc_provider_name: z.string().optional(),
    }),
    handler: async (_input, request) => {
      const info = await deps.system.info(subjectOf(request), `${request.protocol}://${request.host}`);
      const open = {
        auth_mode: info.authMode,
        primary_auth_mode: false,
        self_registration: false,
        harbor_version: `v${info.version}-berth`,
        current_time: new Date().toISOString(),
        banner_message: '',
        // The sign-in page names the provider on its button, before anyone has signed in.
        ...(info.oidcProviderName ? { oidc_provider_name: info.oidcProviderName } : {}),
      };
      if (!info.signedIn) return open;
      return {
        ...open,
        registry_url: info.signedIn.registryHost,
        external_url: info.signedIn.externalUrl,
        project_creation_restriction: info.signedIn.projectCreationRestriction,
        has_ca_root: info.signedIn.hasCaRoot,
        read_only: false,
        notification_enable: false,
        registry_storage_provider_name: info.signedIn.storageDriver,
      };
    },
  });

  api.add({
    operationId: 'getVolumes',
    tag,
    method: 'GET',
    path: '/systeminfo/volumes',
    summary: 'Get system volume info (total/free size).',
    status: 200,
    response: z.object({ storage: z.array(z.object({ total: z.number().int(), free: z.number().int() })) }),
    handler: async (_input, request) => {
      await authorize(request, deps.can, 'read', { scope: 'system', resource: 'system-volumes' });
      return { storage: [await deps.system.volumes()] };
    },
  });
}
