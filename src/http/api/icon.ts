import { z } from 'zod';
import { artifactIcon } from '../../services/artifacts/artifact-icons.js';
import type { ApiRouter } from './router.js';

/** Harbor's `icon` tag: the artifact-type icons an artifact's `icon` digest names (open to anyone). */
export function iconRoutes(api: ApiRouter): void {
  api.add({
    operationId: 'getIcon',
    tag: 'icon',
    method: 'GET',
    path: '/icons/{digest}',
    summary: 'Get artifact icon',
    params: z.object({ digest: z.string().min(1).max(200) }),
    status: 200,
    response: z.object({ 'content-type': z.string(), content: z.string() }),
    handler: async ({ params }, _request, reply) => {
      const icon = artifactIcon(params.digest);
      // Icons never change under a digest.
      reply.header('Cache-Control', 'public, max-age=31536000, immutable');
      return { 'content-type': icon.contentType, content: icon.content };
    },
  });
}
