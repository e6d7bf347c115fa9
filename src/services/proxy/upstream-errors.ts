import { AppError, type ErrorCode } from '../../lib/errors.js';
import { isRemoteError } from '../../remotes/adapter.js';
import type { Upstream } from './proxy-projects.js';

/** Upstream failures during which a cached tag is served: the upstream is down or shedding load. */
export function staleable(err: unknown): boolean {
  if (!isRemoteError(err)) return false;
  if (['unreachable', 'timeout', 'rate-limited', 'aborted'].includes(err.reason)) return true;
  return err.reason === 'remote' && (err.status ?? 0) >= 500;
}

/**
 * The client's error for a failed upstream call: what was asked, of which upstream, and its answer. A
 * 404 is the artifact's absence; a 429 stays a 429; anything else is a 503.
 */
export function upstreamError(
  up: Upstream,
  err: unknown,
  what: string,
  neverCached: boolean,
  missingCode: ErrorCode = 'MANIFEST_UNKNOWN',
): AppError {
  if (!isRemoteError(err)) return err instanceof AppError ? err : new AppError('UNAVAILABLE', String(err));
  const where = `the upstream registry ${up.registry.name} (${up.registry.url})`;
  const cached = neverCached ? `; ${what} is not in the proxy cache` : '';
  if (err.reason === 'not-found') return new AppError(missingCode, `${what} is not found at ${where}`);
  const code: ErrorCode = err.reason === 'rate-limited' ? 'TOOMANYREQUESTS' : 'UNAVAILABLE';
  return new AppError(code, `could not fetch ${what} from ${where}: ${err.message}${cached}`);
}
