import type { ApiRouter } from './router.js';

/** Harbor's liveness ping: `GET /ping` answers the text `Pong`. */
export function pingRoutes(api: ApiRouter): void {
  api.add({
    operationId: 'getPing',
    tag: 'ping',
    method: 'GET',
    path: '/ping',
    summary: 'Ping Harbor to check if the API server is alive.',
    status: 200,
    handler: async () => 'Pong',
  });
}
