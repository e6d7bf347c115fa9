import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../lib/errors.js';
import { retryAfterOf } from './error-status.js';
import type { TokenService } from '../services/access/token-service.js';

export interface TokenDeps {
  tokens: TokenService;
  service: string;
}

const status: Partial<Record<ErrorCode, number>> = {
  UNAUTHORIZED: 401,
  TOOMANYREQUESTS: 429,
  BAD_REQUEST: 400,
};

/**
 * GET /service/token: Docker's token authentication. Credentials are Basic (user password, OIDC CLI
 * secret or robot secret) or none (anonymous, public projects only). Without credentials and without a
 * scope it answers 401, which is how `docker login` checks a password.
 */
export async function tokenPlugin(app: FastifyInstance, deps: TokenDeps): Promise<void> {
  app.setErrorHandler((err, req, reply) => render(req, reply, err));
  app.get('/service/token', async (req, reply) => {
    const q = req.query as Record<string, string | string[] | undefined>;
    const service = first(q.service);
    const scopes = [q.scope ?? []].flat();
    if (service !== undefined && service !== deps.service)
      throw new AppError(
        'BAD_REQUEST',
        `unknown service "${service.slice(0, 100)}"; this is "${deps.service}"`,
      );
    if (req.credentialsRejected) throw new AppError('UNAUTHORIZED', 'invalid username or password');
    if (req.subject.kind === 'anonymous' && scopes.length === 0)
      throw new AppError('UNAUTHORIZED', 'authentication required');
    const issued = await deps.tokens.issue(req.subject, scopes);
    return reply.code(200).send({
      token: issued.token,
      access_token: issued.token,
      expires_in: issued.expiresIn,
      issued_at: issued.issuedAt.toISOString(),
    });
  });
}

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function render(req: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const code: ErrorCode = err instanceof AppError ? err.code : 'INTERNAL_SERVER_ERROR';
  const httpStatus = status[code] ?? 500;
  if (httpStatus >= 500) req.log.error({ err }, 'token request failed');
  if (httpStatus === 401) reply.header('www-authenticate', 'Basic realm="berth"');
  if (httpStatus === 429) reply.header('retry-after', retryAfterOf(err));
  const message = httpStatus >= 500 ? 'internal server error' : (err as Error).message;
  return reply.code(httpStatus).send({ errors: [{ code, message }] });
}
