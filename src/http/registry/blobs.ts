import type { OutgoingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../lib/errors.js';
import { isRecycling } from '../../lib/recycling.js';
import type { BlobRead } from '../../services/registry/blob-service.js';
import type { ByteRange } from '../../storage/driver.js';
import { contextOf } from '../context.js';
import type { RegistryDeps } from './deps.js';

export async function headBlob(
  deps: RegistryDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  name: string,
  digest: string,
) {
  const blob = await deps.blobs.stat(contextOf(req), name, digest);
  return reply
    .code(200)
    .headers({ ...blobHeaders(blob.digest), 'content-length': blob.size })
    .send();
}

export async function getBlob(
  deps: RegistryDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  name: string,
  digest: string,
) {
  const range = parseRange(req.headers.range);
  const redirect = await deps.blobs.redirectUrl(contextOf(req), name, digest);
  if (redirect) {
    return reply.code(307).headers({ location: redirect, 'docker-content-digest': digest }).send();
  }
  const blob = await deps.blobs.open(contextOf(req), name, digest, range).catch((err: unknown) => {
    // RFC 9110 §15.5.17: a 416 tells the client the current length so it can ask again.
    if (err instanceof AppError && err.code === 'RANGE_INVALID') {
      const { size } = (err.detail ?? {}) as { size?: number };
      if (size !== undefined) reply.header('content-range', `bytes */${size}`);
    }
    throw err;
  });
  return sendBlob(reply, blob);
}

/** The headers of a blob answer, beside its length. */
export function blobHeaders(digest: string) {
  return {
    'content-type': 'application/octet-stream',
    'docker-content-digest': digest,
    etag: `"${digest}"`,
    'accept-ranges': 'bytes',
  };
}

/** Answers 200 with the blob, or 206 with the range asked for. */
export function sendBlob(reply: FastifyReply, blob: BlobRead): FastifyReply {
  reply.headers({ ...blobHeaders(blob.digest), 'cache-control': 'max-age=31536000' });
  if (blob.range) {
    reply
      .code(206)
      .header('content-range', `bytes ${blob.range.start}-${blob.range.end}/${blob.size}`)
      .header('content-length', blob.range.end - blob.range.start + 1);
  } else {
    reply.code(200).header('content-length', blob.size);
  }
  return sendBody(reply, blob.body);
}

/**
 * Streams a blob. A recycling body (the filesystem driver's) is written here rather than by
 * `reply.send`, so each chunk goes back to the stream once the socket has taken it (lib/recycling.ts).
 * The reply is hijacked: onSend hooks don't run for it; onResponse (access log, metrics) still does.
 */
function sendBody(reply: FastifyReply, body: Readable): FastifyReply {
  if (!isRecycling(body)) return reply.send(body);
  reply.hijack();
  const res = reply.raw;
  const headers: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = v;
  res.writeHead(reply.statusCode, headers);
  const onDrain = () => body.resume();
  res.on('drain', onDrain);
  res.once('close', () => {
    res.off('drain', onDrain);
    if (!res.writableFinished) body.destroy();
  });
  body.on('data', (chunk: Buffer) => {
    const more = res.write(chunk, (err) => {
      if (!err) body.recycle(chunk);
    });
    if (!more) body.pause();
  });
  body.once('end', () => res.end());
  body.once('error', (err) => {
    reply.log.warn({ err }, 'blob read failed after the answer began; connection cut');
    res.destroy(err);
  });
  return reply;
}

export async function deleteBlob(
  deps: RegistryDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  name: string,
  digest: string,
) {
  await deps.blobs.delete(contextOf(req), name, digest);
  return reply.code(202).header('content-length', 0).send();
}

/** `bytes=start-` and `bytes=start-end`; other forms (suffix, multiple ranges) are ignored: the whole blob is sent. */
export function parseRange(header: string | undefined): ByteRange | undefined {
  const m = header ? /^bytes=(\d+)-(\d*)$/.exec(header.trim()) : null;
  if (!m) return undefined;
  const start = Number(m[1]);
  return m[2] ? { start, end: Number(m[2]) } : { start };
}
