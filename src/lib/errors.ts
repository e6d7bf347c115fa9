/**
 * The one error catalogue. Services throw `AppError(code, message)`; each HTTP surface maps the code to a
 * status and renders its own body (OCI on /v2, Harbor's on /api/v2.0). OCI and Harbor codes are reused
 * verbatim so clients recognise them.
 */
export const errorCodes = [
  // OCI distribution-spec codes
  'BLOB_UNKNOWN',
  'BLOB_UPLOAD_INVALID',
  'BLOB_UPLOAD_UNKNOWN',
  'DIGEST_INVALID',
  'MANIFEST_BLOB_UNKNOWN',
  'MANIFEST_INVALID',
  'MANIFEST_UNKNOWN',
  'NAME_INVALID',
  'NAME_UNKNOWN',
  'SIZE_INVALID',
  'UNAUTHORIZED',
  'DENIED',
  'UNSUPPORTED',
  'TOOMANYREQUESTS',
  // Berth / Harbor codes
  'RANGE_INVALID',
  'TAG_INVALID',
  'PAYLOAD_TOO_LARGE',
  'BAD_REQUEST',
  'NOT_FOUND',
  'CONFLICT',
  'FORBIDDEN',
  'PRECONDITION',
  // Harbor's refusal of a pull by a project policy (vulnerability prevention).
  'PROJECTPOLICYVIOLATION',
  'UNAVAILABLE',
  'INTERNAL_SERVER_ERROR',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

export class AppError extends Error {
  readonly code: ErrorCode;
  /** Structured detail for clients (OCI `detail`); never secrets. */
  readonly detail: unknown;

  constructor(code: ErrorCode, message: string, detail?: unknown) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.detail = detail;
  }
}

export function isAppError(err: unknown): err is AppError {
  return err instanceof AppError;
}
