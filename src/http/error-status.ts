import type { ErrorCode } from '../lib/errors.js';

/** The HTTP status of each catalogue code; each surface's renderer starts from this table. */
export const errorStatus: Readonly<Record<ErrorCode, number>> = {
  BLOB_UNKNOWN: 404,
  BLOB_UPLOAD_INVALID: 400,
  BLOB_UPLOAD_UNKNOWN: 404,
  DIGEST_INVALID: 400,
  MANIFEST_BLOB_UNKNOWN: 400,
  MANIFEST_INVALID: 400,
  MANIFEST_UNKNOWN: 404,
  NAME_INVALID: 400,
  NAME_UNKNOWN: 404,
  SIZE_INVALID: 400,
  UNAUTHORIZED: 401,
  DENIED: 403,
  UNSUPPORTED: 405,
  TOOMANYREQUESTS: 429,
  RANGE_INVALID: 416,
  TAG_INVALID: 400,
  PAYLOAD_TOO_LARGE: 413,
  BAD_REQUEST: 400,
  NOT_FOUND: 404,
  CONFLICT: 409,
  FORBIDDEN: 403,
  PRECONDITION: 412,
  PROJECTPOLICYVIOLATION: 412,
  UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
};

/**
 * Retry-After for a 429 or 503, in seconds: the error's own `retryAfter` detail (a login lockout knows
 * when it ends), else 1 (a momentary shortage, such as a full connection pool).
 */
export function retryAfterOf(err: unknown): string {
  const detail = (err as { detail?: { retryAfter?: unknown } } | null)?.detail;
  const seconds = detail?.retryAfter;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 1
    ? String(Math.ceil(seconds))
    : '1';
}
