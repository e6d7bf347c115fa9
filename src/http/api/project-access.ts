import type { FastifyRequest } from 'fastify';
import type { ProjectRow } from '../../db/tables.js';
import { AppError } from '../../lib/errors.js';
import { authorize, subjectOf } from './access.js';
import type { ApiDeps } from './deps.js';
import { projectTarget } from './project.js';

/**
 * The project a request names, when the caller may see it and do `action` on its `resource`. A private
 * project the caller cannot read answers exactly as a project that does not exist (NOT_FOUND), so its
 * name leaks nothing; past that, anonymous callers get UNAUTHORIZED and others FORBIDDEN.
 */
export async function visibleProjectFor(
  deps: ApiDeps,
  request: FastifyRequest,
  ref: string,
  action: string,
  resource: string,
  byName = request.headers['x-is-resource-name'] === 'true',
): Promise<ProjectRow> {
  const row = await deps.projects.find(ref, byName);
  if (!(await deps.can(subjectOf(request), 'read', projectTarget(row)))) {
    throw new AppError('NOT_FOUND', `project ${ref} not found`);
  }
  await authorize(request, deps.can, action, projectTarget(row, resource));
  return row;
}

/** UNAUTHORIZED unless someone signed in (Harbor's RequireAuthenticated). */
export function requireSignedIn(request: FastifyRequest): void {
  if (subjectOf(request).kind === 'anonymous') throw new AppError('UNAUTHORIZED', 'authentication required');
}
