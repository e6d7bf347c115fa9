import type { FastifyReply, FastifyRequest } from 'fastify';
import { accessCovers } from '../../auth/bearer-token.js';
import { AppError } from '../../lib/errors.js';
import { robotHolds } from '../../services/access/access-control.js';
import { maxManifestBytes } from '../../oci/manifest.js';
import { contextOf } from '../context.js';
import type { RegistryDeps } from './deps.js';
import { contentLength } from './request-utils.js';

export async function putManifest(
  deps: RegistryDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  name: string,
  ref: string,
) {
  const body = await readCapped(req, reply, maxManifestBytes);
  const pushed = await deps.manifests.put(contextOf(req), name, ref, body, req.headers['content-type']);
  reply.code(201).headers({
    location: `/v2/${name}/manifests/${pushed.digest}`,
    'docker-content-digest': pushed.digest,
    'content-length': 0,
  });
  if (pushed.subject) reply.header('oci-subject', pushed.subject);
  return reply.send();
}

export async function getManifest(
  deps: RegistryDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  name: string,
  ref: string,
) {
  const ctx = contextOf(req);
  const accept = parseAccept(req.headers.accept);
  if (req.method === 'HEAD') {
    const info = await deps.manifests.head(ctx, name, ref, accept);
    return reply.code(200).headers(manifestHeaders(info)).send();
  }
  if (!scannerPull(req, name)) await deps.pullPolicy?.check(ctx, name, ref);
  const manifest = await deps.manifests.get(ctx, name, ref, accept);
  return reply.code(200).headers(manifestHeaders(manifest)).send(manifest.body);
}

/**
 * A scanner's own pull passes the vulnerability policy, as Harbor's: a token granting Harbor's
 * `scanner-pull` on the repository, or the Basic credentials of a robot holding it (the robot account
 * made for an adapter's scan).
 */
function scannerPull(req: FastifyRequest, name: string): boolean {
  if (req.token) return accessCovers(req.token.access, 'repository', name, ['scanner-pull']);
  const s = req.subject;
  return s.kind === 'robot' && robotHolds(s, name.split('/')[0]!, 'repository', 'scanner-pull');
}

export async function deleteManifest(
  deps: RegistryDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  name: string,
  ref: string,
) {
  await deps.manifests.delete(contextOf(req), name, ref);
  return reply.code(202).header('content-length', 0).send();
}

export function manifestHeaders(info: { digest: string; mediaType: string; size: number }) {
  return {
    'content-type': info.mediaType,
    'content-length': info.size,
    'docker-content-digest': info.digest,
    etag: `"${info.digest}"`,
  };
}

/** Media types listed in Accept (parameters dropped); undefined when the client sent none. */
export function parseAccept(header: string | undefined): string[] | undefined {
  if (!header) return undefined;
  return header
    .split(',')
    .map((part) => part.split(';')[0]!.trim().toLowerCase())
    .filter((t) => t !== '');
}

/** Bytes of an over-large body read and dropped before the 413; past this the connection is cut. */
const drainLimit = 32 * 1024 * 1024;

/**
 * Reads a request body into memory, refusing more than `max` bytes. The refusal comes after the rest of
 * the body is read and dropped (up to `drainLimit`), so a client that writes its whole body before
 * reading the answer gets the 413 rather than a broken pipe; beyond that, `Connection: close` ends the
 * connection after the answer.
 */
async function readCapped(req: FastifyRequest, reply: FastifyReply, max: number): Promise<Buffer> {
  const tooLarge = (size: number | undefined, cut: boolean) => {
    if (cut) reply.header('connection', 'close');
    return new AppError(
      'PAYLOAD_TOO_LARGE',
      size === undefined
        ? `manifest exceeds the limit of ${max} bytes`
        : `manifest of ${size} bytes exceeds the limit of ${max} bytes`,
    );
  };
  const declared = contentLength(req);
  if (declared !== undefined && declared > drainLimit) throw tooLarge(declared, true);
  const refused = declared !== undefined && declared > max;
  const chunks: Buffer[] = [];
  let total = 0;
  // destroyOnReturn: false, since destroying the request would reset the connection before the answer.
  for await (const chunk of req.raw.iterator({ destroyOnReturn: false })) {
    total += (chunk as Buffer).length;
    if (total > drainLimit) throw tooLarge(undefined, true);
    if (!refused && total <= max) chunks.push(chunk as Buffer);
  }
  if (refused || total > max) throw tooLarge(declared, false);
  return Buffer.concat(chunks, total);
}
