import type { FastifyReply, FastifyRequest } from 'fastify';
import { mediaTypes } from '../../oci/media-types.js';
import { contextOf } from '../context.js';
import { realSubject } from './authorize.js';
import type { RegistryDeps } from './deps.js';
import { nextLink, pageSize, query } from './request-utils.js';

export async function listTags(deps: RegistryDeps, req: FastifyRequest, reply: FastifyReply, name: string) {
  const q = query(req);
  const n = pageSize(q.n, 10_000, 10_000);
  const page = await deps.manifests.listTags(contextOf(req), name, n, q.last);
  return sendTagPage(reply, page, n);
}

/** A page of a tag list, with the `Link` to the next one when there is more. */
export function sendTagPage(
  reply: FastifyReply,
  page: { name: string; tags: string[]; more: boolean },
  n: number,
): FastifyReply {
  if (page.more && page.tags.length > 0)
    reply.header('link', nextLink(`/v2/${page.name}/tags/list`, n, page.tags.at(-1)!));
  return reply.code(200).send({ name: page.name, tags: page.tags });
}

export async function catalog(deps: RegistryDeps, req: FastifyRequest, reply: FastifyReply) {
  const q = query(req);
  const n = pageSize(q.n, 100, 10_000);
  const subject = await realSubject(deps, req);
  const visible = subject ? await deps.auth.access.visibleProjects(subject) : { ids: [] };
  const page = await deps.manifests.catalog(
    contextOf(req),
    n,
    q.last,
    visible === 'all' ? 'all' : visible.ids,
  );
  if (page.more && page.repositories.length > 0) {
    reply.header('link', nextLink('/v2/_catalog', n, page.repositories.at(-1)!));
  }
  return reply.code(200).send({ repositories: page.repositories });
}

export async function listReferrers(
  deps: RegistryDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  name: string,
  digest: string,
) {
  const { artifactType } = query(req);
  const result = await deps.manifests.referrers(contextOf(req), name, digest, artifactType || undefined);
  if (result.filtered) reply.header('oci-filters-applied', 'artifactType');
  // A Buffer, so Fastify does not append `; charset=utf-8`: clients compare the media type exactly.
  return reply
    .code(200)
    .type(mediaTypes.ociIndex)
    .send(Buffer.from(JSON.stringify(result.index)));
}
