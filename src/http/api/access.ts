import type { FastifyRequest } from 'fastify';
import { AppError } from '../../lib/errors.js';
import { anonymous, type Subject, type Target } from '../../services/access/subject.js';

/** The one permission question every /api/v2.0 handler asks (services/access `can()`). */
export type Can = (subject: Subject, action: string, target: Target) => boolean | Promise<boolean>;

/** The caller, as the authentication hook resolved it (anonymous when nobody authenticated). */
export function subjectOf(request: FastifyRequest): Subject {
  return (request as FastifyRequest & { subject?: Subject }).subject ?? anonymous;
}

/**
 * Throws unless the caller may do `action` on `target`: UNAUTHORIZED for an anonymous caller (so clients
 * retry with credentials), FORBIDDEN for an authenticated one.
 */
export async function authorize(
  request: FastifyRequest,
  can: Can,
  action: string,
  target: Target,
): Promise<void> {
  const subject = subjectOf(request);
  if (await can(subject, action, target)) return;
  if (subject.kind === 'anonymous') throw new AppError('UNAUTHORIZED', 'authentication required');
  throw new AppError('FORBIDDEN', `not allowed to ${action} ${target.resource}`);
}

/**
 * For operations Harbor opens to any signed-in caller: UNAUTHORIZED for an anonymous one (AccessControl
 * grants anonymous callers nothing at system scope, so the `can` question below refuses them).
 */
export async function requireAuthenticated(request: FastifyRequest, can: Can): Promise<Subject> {
  const subject = subjectOf(request);
  if (subject.kind === 'anonymous' && !(await can(subject, 'read', { scope: 'system', resource: 'api' })))
    throw new AppError('UNAUTHORIZED', 'authentication required');
  return subject;
}
