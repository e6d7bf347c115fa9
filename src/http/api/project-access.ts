import type { FastifyRequest } from 'fastify';
import { AppError } from '../../lib/errors.js';
import { subjectOf } from './access.js';

/** UNAUTHORIZED unless someone signed in (Harbor's RequireAuthenticated). */
export function requireSignedIn(request: FastifyRequest): void {
  if (subjectOf(request).kind === 'anonymous') throw new AppError('UNAUTHORIZED', 'authentication required');
}
