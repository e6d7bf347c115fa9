import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from '../../lib/errors.js';
import { InvalidPathError } from '../../storage/driver.js';
import { retryAfterOf, errorStatus as status } from '../error-status.js';

/** Codes outside the OCI list are rendered as the nearest OCI code so clients can act on them. */
const ociCode: Partial<Record<ErrorCode, string>> = {
  PAYLOAD_TOO_LARGE: 'MANIFEST_INVALID',
  TAG_INVALID: 'MANIFEST_INVALID',
  BAD_REQUEST: 'UNSUPPORTED',
  NOT_FOUND: 'NAME_UNKNOWN',
  FORBIDDEN: 'DENIED',
};

/** Renders any error as an OCI distribution-spec error body; 5xx are logged whole and answered plainly. */
export function sendOciError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  let code: ErrorCode;
  let message: string;
  let detail: unknown;
  if (err instanceof AppError) {
    ({ code, message, detail } = err);
  } else if (err instanceof InvalidPathError) {
    code = 'NAME_INVALID';
    message = 'invalid repository name';
  } else if (isClientError(err)) {
    code = 'BAD_REQUEST';
    message = (err as Error).message;
  } else {
    code = 'INTERNAL_SERVER_ERROR';
    message = 'internal server error';
  }
  const httpStatus = status[code];
  if (httpStatus >= 500) request.log.error({ err }, 'request failed');
  if (httpStatus === 503 || httpStatus === 429) reply.header('Retry-After', retryAfterOf(err));
  if (code === 'RANGE_INVALID' && isSize(detail)) reply.header('Range', `0-${Math.max(detail.size - 1, 0)}`);
  const body = {
    errors: [{ code: ociCode[code] ?? code, message, ...(detail === undefined ? {} : { detail }) }],
  };
  // For HEAD the body is sent too: Fastify sets Content-Length from it, as for GET, and Node's HTTP
  // server drops the bytes of a HEAD response.
  return reply.code(httpStatus).type('application/json').send(body);
}

function isClientError(err: unknown): boolean {
  const statusCode = (err as { statusCode?: number } | null)?.statusCode;
  return typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500;
}

function isSize(v: unknown): v is { size: number } {
  return typeof v === 'object' && v !== null && typeof (v as { size?: unknown }).size === 'number';
}
