import { z } from 'zod';
import type { ApiDeps } from './deps.js';
import type { ApiRouter } from './router.js';

/** Harbor's component health: always 200, `status` healthy only when every component is. */
export function healthRoutes(api: ApiRouter, deps: ApiDeps): void {
  api.add({
    operationId: 'getHealth',
    tag: 'health',
    method: 'GET',
    path: '/health',
    summary: "Check the status of Harbor's components",
    status: 200,
    response: z.object({
      status: z.string(),
      components: z.array(z.object({ name: z.string(), status: z.string(), error: z.string().optional() })),
    }),
    handler: async () => {
      const components = await Promise.all(
        deps.health.map(async (c) => {
          try {
            await c.check();
            return { name: c.name, status: 'healthy' };
          } catch (err) {
            return { name: c.name, status: 'unhealthy', error: (err as Error).message };
          }
        }),
      );
      return {
        status: components.every((c) => c.status === 'healthy') ? 'healthy' : 'unhealthy',
        components,
      };
    },
  });
}
