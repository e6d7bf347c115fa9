import type { FastifyReply, FastifyRequest } from 'fastify';
import { ZodError } from 'zod';
import { AppError, type ErrorCode } from '../../lib/errors.js';
import { errorStatus, retryAfterOf } from '../error-status.js';

/** HTTP status of each catalogue code on /api/v2.0 (UNSUPPORTED is the client's fault here, not a method). */
const status: Record<ErrorCode, number> = { ...errorStatus, UNSUPPORTED: 400 };

/** Codes Harbor's API never shows, rendered as the Harbor code a client of /api/v2.0 expects. */
const harborCode: Partial<Record<ErrorCode, string>> = {
  NAME_INVALID: 'BAD_REQUEST',
  TAG_INVALID: 'BAD_REQUEST',
  SIZE_INVALID: 'BAD_REQUEST',
  NAME_UNKNOWN: 'NOT_FOUND',
  BLOB_UNKNOWN: 'NOT_FOUND',
  MANIFEST_UNKNOWN: 'NOT_FOUND',
  TOOMANYREQUESTS: 'TOO_MANY_REQUEST',
  PAYLOAD_TOO_LARGE: 'BAD_REQUEST',
  // Harbor answers every 5xx as UNKNOWN "internal server error" (the detail goes to the log only).
  INTERNAL_SERVER_ERROR: 'UNKNOWN',
};

export interface HarborErrorBody {
  errors: { code: string; message: string }[];
}

export function harborStatusOf(code: ErrorCode): number {
  return status[code];
}

/** Maps any error to Harbor's status and `{"errors":[{code,message}]}`; 5xx logged whole, answered plainly. */
export function harborError(err: unknown): { status: number; body: HarborErrorBody; cause: unknown } {
  let code: ErrorCode;
  let message: string;
  if (err instanceof AppError) {
    ({ code, message } = err);
  } else if (err instanceof ZodError) {
    code = 'BAD_REQUEST';
    message = zodMessage(err);
  } else if (isClientError(err)) {
    const e = err as { statusCode: number; message: string; code?: string };
    if (e.statusCode === 413) return plain(413, 'BAD_REQUEST', 'request body is too large', err);
    if (e.statusCode === 415) return plain(415, 'UNSUPPORTED_MEDIA_TYPE', e.message, err);
    if (e.statusCode === 404) return plain(404, 'NOT_FOUND', e.message, err);
    if (e.statusCode === 405) return plain(405, 'METHOD_NOT_ALLOWED', e.message, err);
    code = e.statusCode === 401 ? 'UNAUTHORIZED' : e.statusCode === 403 ? 'FORBIDDEN' : 'BAD_REQUEST';
    message = e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? 'request body is not valid JSON' : e.message;
  } else {
    code = 'INTERNAL_SERVER_ERROR';
    message = 'internal server error';
  }
  const httpStatus = status[code];
  if (httpStatus === 500) message = 'internal server error';
  return plain(httpStatus, harborCode[code] ?? code, message, err);
}

export function sendHarborError(request: FastifyRequest, reply: FastifyReply, err: unknown): FastifyReply {
  const { status: httpStatus, body } = harborError(err);
  if (httpStatus >= 500) request.log.error({ err }, 'request failed');
  if (httpStatus === 503 || httpStatus === 429) reply.header('Retry-After', retryAfterOf(err));
  return reply
    .code(httpStatus)
    .type('application/json')
    .send(request.method === 'HEAD' ? undefined : body);
}

function plain(httpStatus: number, code: string, message: string, cause: unknown) {
  return { status: httpStatus, body: { errors: [{ code, message }] }, cause };
}

/** One line naming each bad field: `body.name: Too big: expected string to have <=255 characters`. */
function zodMessage(err: ZodError): string {
  return err.issues
    .slice(0, 5)
    .map((i) => {
      const path = i.path.map(String).join('.');
      if (i.code === 'unrecognized_keys')
        return `${path ? path + ': ' : ''}unknown field(s) ${i.keys.join(', ')}`;
      return `${path || 'value'}: ${i.message}`;
    })
    .join('; ');
}

function isClientError(err: unknown): boolean {
  const statusCode = (err as { statusCode?: number } | null)?.statusCode;
  return typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500;
}
