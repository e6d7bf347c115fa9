import { z } from 'zod';
import { AppError } from '../../lib/errors.js';
import type { SettingsService } from '../../services/settings/settings.js';
import { authorize, type Can } from './access.js';
import type { ApiRouter } from './router.js';

const configuration = { scope: 'system' as const, resource: 'configuration' };

/** Harbor's `configure` swagger tag: system settings (system administrators only). */
export function configureRoutes(api: ApiRouter, deps: { can: Can; settings: SettingsService }): void {
  const tag = 'configure';

  api.add({
    operationId: 'getConfigurations',
    tag,
    method: 'GET',
    path: '/configurations',
    summary: 'Get system configurations.',
    status: 200,
    handler: async (_input, request) => {
      await authorize(request, deps.can, 'read', configuration);
      return deps.settings.all();
    },
  });

  api.add({
    operationId: 'getInternalconfig',
    tag,
    method: 'GET',
    path: '/internalconfig',
    summary: 'Get internal configurations.',
    status: 200,
    handler: async () => {
      // Harbor answers this to its own components only (the "solution user" holding the core secret);
      // Berth runs no separate components, so no caller qualifies.
      throw new AppError('UNAUTHORIZED', 'only internal service is allowed to call this API');
    },
  });

  api.add({
    operationId: 'updateConfigurations',
    tag,
    method: 'PUT',
    path: '/configurations',
    summary: 'Modify system configurations.',
    body: z.record(z.string(), z.unknown(), { error: 'the body must be a JSON object of settings' }),
    status: 200,
    handler: async ({ body }, request) => {
      await authorize(request, deps.can, 'update', configuration);
      await deps.settings.update(body);
      return undefined;
    },
  });
}
