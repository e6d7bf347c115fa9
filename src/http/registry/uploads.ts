import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../lib/errors.js';
import type { ContentRange, UploadState } from '../../services/registry/upload-sessions.js';
import { contextOf } from '../context.js';
import type { RegistryDeps } from './deps.js';
import { contentLength, hasBody, query } from './request-utils.js';

/** POST /v2/<name>/blobs/uploads/: mount, monolithic upload, or a new session. */
export async function startUpload(
  deps: RegistryDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  name: string,
) {
  const { digest, mount, from } = query(req);
  if (mount !== undefined) {
    const source = req.mountFromAllowed ? from : undefined;
    const result = await deps.uploads.mount(contextOf(req), name, mount, source);
    if (result.mounted) return blobCreated(reply, name, result.digest);
    return sessionReply(reply.code(202), name, result.upload);
  }
  if (digest !== undefined) {
    const ctx = contextOf(req, reply);
    const blob = await deps.uploads.putMonolithic(ctx, name, digest, req.raw, contentLength(req));
    return blobCreated(reply, name, blob.digest);
  }
  const upload = await deps.uploads.start(contextOf(req), name);
  return sessionReply(reply.code(202), name, upload);
}

/** PATCH: append a chunk, in order (Content-Range optional). */
export async function patchUpload(
  deps: RegistryDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  name: string,
  id: string,
) {
  const range = parseContentRange(req.headers['content-range']);
  const state = await deps.uploads.append(
    contextOf(req, reply),
    name,
    id,
    req.raw,
    range,
    contentLength(req),
  );
  return sessionReply(reply.code(202), name, state);
}

/** PUT ?digest=: finish, with an optional last chunk in the body. */
export async function putUpload(
  deps: RegistryDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  name: string,
  id: string,
) {
  const { digest } = query(req);
  if (!digest)
    throw new AppError('DIGEST_INVALID', 'the digest query parameter is required to complete an upload');
  const body = hasBody(req) ? req.raw : undefined;
  const blob = await deps.uploads.finish(contextOf(req, reply), name, id, digest, body, contentLength(req));
  return blobCreated(reply, name, blob.digest);
}

export async function getUpload(
  deps: RegistryDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  name: string,
  id: string,
) {
  const state = await deps.uploads.status(contextOf(req), name, id);
  return sessionReply(reply.code(204), name, state);
}

export async function deleteUpload(
  deps: RegistryDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  name: string,
  id: string,
) {
  await deps.uploads.cancel(contextOf(req), name, id);
  return reply.code(204).send();
}

function sessionReply(reply: FastifyReply, name: string, upload: UploadState) {
  return reply
    .headers({
      location: `/v2/${name}/blobs/uploads/${upload.id}`,
      range: `0-${Math.max(upload.size - 1, 0)}`,
      'docker-upload-uuid': upload.id,
      'content-length': 0,
    })
    .send();
}

function blobCreated(reply: FastifyReply, name: string, digest: string) {
  return reply
    .code(201)
    .headers({
      location: `/v2/${name}/blobs/${digest}`,
      'docker-content-digest': digest,
      'content-length': 0,
    })
    .send();
}

/** `<start>-<end>` as the spec writes it, or `bytes <start>-<end>[/<total>]`. */
function parseContentRange(header: string | undefined): ContentRange | undefined {
  if (!header) return undefined;
  const m = /^(?:bytes[ =])?(\d+)-(\d+)(?:\/(?:\d+|\*))?$/.exec(header.trim());
  if (!m) throw new AppError('RANGE_INVALID', `invalid Content-Range "${header.slice(0, 100)}"`);
  return { start: Number(m[1]), end: Number(m[2]) };
}
