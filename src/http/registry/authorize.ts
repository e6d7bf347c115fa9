import type { FastifyReply, FastifyRequest } from 'fastify';
import { accessCovers } from '../../auth/bearer-token.js';
import { AppError } from '../../lib/errors.js';
import { assertRepositoryName } from '../../oci/names.js';
import type { Subject } from '../../services/access/subject.js';
import type { RegistryDeps } from './deps.js';
import type { RegistryRoute } from './paths.js';
import { query } from './request-utils.js';

type Action = 'pull' | 'push' | 'delete';

/** Harbor's method → action rule on /v2/<name>/… (`v2auth/access.go`). */
function actionOf(method: string): Action {
  if (method === 'GET' || method === 'HEAD') return 'pull';
  if (method === 'DELETE') return 'delete';
  return 'push';
}

/** What the challenge asks for: push needs pull too, as Harbor's challenge says. */
const scopeActions: Record<Action, string> = { pull: 'pull', push: 'pull,push', delete: 'delete' };

/** The `Bearer realm=…` challenge pointing at our token service. */
export function challenge(deps: RegistryDeps, req: FastifyRequest, scope?: string): string {
  const base = deps.auth.externalUrl ?? `${req.protocol}://${req.host}`;
  return `Bearer realm="${base.replace(/\/$/, '')}/service/token",service="${deps.auth.service}"${
    scope ? `,scope="${scope}"` : ''
  }`;
}

function unauthorized(deps: RegistryDeps, req: FastifyRequest, reply: FastifyReply, scope?: string): never {
  reply.header('www-authenticate', challenge(deps, req, scope));
  throw new AppError(
    'UNAUTHORIZED',
    req.credentialsRejected ? 'invalid credentials' : 'authentication required',
  );
}

/**
 * Decides whether the caller may make this /v2 request, before any body is read. Requests without
 * credentials are always challenged (clients then fetch a token, anonymously for public projects).
 * With a token, its `access` claim decides; a token lacking the scope is challenged again when the
 * subject could get it. A refused signed-in caller who cannot see the project gets the answer of a
 * project that does not exist; one who can see it gets DENIED.
 */
export async function authorize(
  deps: RegistryDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  route: RegistryRoute,
): Promise<void> {
  const anonymousBase = route.kind === 'base' && req.subject.kind === 'anonymous';
  if (req.authMethod === 'none' || req.credentialsRejected || anonymousBase)
    unauthorized(deps, req, reply, scopeOf(req, route));
  if (route.kind === 'base' || route.kind === 'catalog') return;
  assertRepositoryName(route.name);
  const action = actionOf(req.method);
  const names = [route.name];
  if (route.kind === 'uploads' && req.method === 'POST') {
    const { mount, from } = query(req);
    // A mount source the caller cannot pull from is ignored: the client gets a plain upload session.
    if (mount !== undefined && from) req.mountFromAllowed = await allowed(deps, req, from, 'pull');
  }
  for (const name of names) {
    if (await allowed(deps, req, name, action)) continue;
    const subject = await realSubject(deps, req);
    const verdict = subject && (await deps.auth.access.repositoryAccess(subject, name, action));
    if (req.token && verdict === 'allowed')
      unauthorized(deps, req, reply, `repository:${name}:${scopeActions[action]}`);
    if (!subject || subject.kind === 'anonymous')
      unauthorized(deps, req, reply, `repository:${name}:${scopeActions[action]}`);
    // A private project the caller cannot see answers exactly as a project that does not exist.
    if (verdict === 'hidden')
      throw new AppError(
        'NAME_UNKNOWN',
        action === 'pull'
          ? `repository name not known to registry: ${name}`
          : `project ${name.split('/', 1)[0]} not found: a push never creates a project`,
      );
    throw new AppError('DENIED', `requested access to the resource is denied: ${action} on ${name}`);
  }
}

function scopeOf(req: FastifyRequest, route: RegistryRoute): string | undefined {
  if (route.kind === 'catalog') return 'registry:catalog:*';
  if (route.kind === 'base') return undefined;
  return `repository:${route.name}:${scopeActions[actionOf(req.method)]}`;
}

async function allowed(
  deps: RegistryDeps,
  req: FastifyRequest,
  name: string,
  action: Action,
): Promise<boolean> {
  if (req.token) return accessCovers(req.token.access, 'repository', name, [action]);
  return (await deps.auth.access.repositoryAccess(req.subject, name, action)) === 'allowed';
}

/** The caller with its real permissions (a token's subject is re-read), or undefined when gone. */
export async function realSubject(deps: RegistryDeps, req: FastifyRequest): Promise<Subject | undefined> {
  if (!req.token) return req.subject;
  const p = req.token.principal;
  if (p.kind === 'user') return deps.auth.authenticator.userById(p.id);
  if (p.kind === 'robot') return deps.auth.authenticator.robotById(p.id);
  return req.subject;
}
