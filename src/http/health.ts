import type { FastifyInstance } from 'fastify';

export interface HealthCheck {
  name: string;
  check(): Promise<void>;
}

/** GET /health: 200 when every component answers, else 503; each component's status in the body. */
export async function healthPlugin(app: FastifyInstance, checks: HealthCheck[]): Promise<void> {
  app.get('/health', async (_req, reply) => {
    const components = await Promise.all(
      checks.map(async (c) => {
        try {
          await c.check();
          return { name: c.name, status: 'healthy' };
        } catch (err) {
          return { name: c.name, status: 'unhealthy', error: (err as Error).message };
        }
      }),
    );
    const healthy = components.every((c) => c.status === 'healthy');
    return reply.code(healthy ? 200 : 503).send({ status: healthy ? 'healthy' : 'unhealthy', components });
  });
}
