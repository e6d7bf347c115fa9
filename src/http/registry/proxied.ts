import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../lib/errors.js';
import type { ProxyTarget } from '../../services/proxy/proxy-projects.js';
import { contextOf } from '../context.js';
import { blobHeaders, parseRange, sendBlob } from './blobs.js';
import type { RegistryDeps } from './deps.js';
import { manifestHeaders, parseAccept } from './manifests.js';
import type { RegistryRoute } from './paths.js';
import { pageSize, query } from './request-utils.js';
import { sendTagPage } from './listings.js';

/**
 * /v2 requests into a proxy-cache project (docs/proxy-cache.md): pulls go through the proxy cache, pushes
 * are refused as Harbor refuses them, and Docker Hub's single-segment names are redirected to `library/`
 * as Harbor does. Undefined when the request is not one the proxy handles (tag lists, deletes, ...).
 */
export async function proxied(
  deps: RegistryDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  route: RegistryRoute,
): Promise<FastifyReply | undefined> {
  if (!deps.proxy || !('name' in route)) return undefined;
  const target = await deps.proxy.target(route.name);
  if (!target) return undefined;
  const m = req.method;
  const pull = m === 'GET' || m === 'HEAD';
  if (
    (route.kind === 'manifest' && m === 'PUT') ||
    route.kind === 'uploads' ||
    (route.kind === 'upload' && m !== 'DELETE' && !pull)
  )
    throw new AppError('DENIED', `can not push artifact to a proxy project: ${target.project.name}`);
  if (route.kind === 'referrers' && m === 'GET') return proxyReferrers(deps, req, reply, target, route);
  if (!pull || (route.kind !== 'manifest' && route.kind !== 'blob' && route.kind !== 'tags'))
    return undefined;
  const redirect = await dockerHubLibrary(deps, target, route.name);
  if (redirect) {
    const rest = req.url.slice(`/v2/${route.name}`.length);
    return reply.redirect(`/v2/${redirect}${rest}`, 301);
  }
  if (route.kind === 'manifest') return proxyManifest(deps, req, reply, target, route.name, route.reference);
  if (route.kind === 'blob') return proxyBlob(deps, req, reply, target, route.name, route.digest);
  return m === 'GET' ? proxyTags(deps, req, reply, target, route.name) : undefined;
}

/** The cached tags and the upstream's, as Harbor lists a proxy project's (docs/proxy-cache.md). */
async function proxyTags(
  deps: RegistryDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  target: ProxyTarget,
  name: string,
) {
  const q = query(req);
  const n = pageSize(q.n, 10_000, 10_000);
  const page = await deps.proxy!.listTags(contextOf(req), target, name, n, q.last);
  return sendTagPage(reply, page, n);
}

/** Docker Hub's official images live under `library/`: `<project>/nginx` is `<project>/library/nginx`. */
async function dockerHubLibrary(
  deps: RegistryDeps,
  target: ProxyTarget,
  name: string,
): Promise<string | undefined> {
  const rest = name.slice(target.project.name.length + 1);
  if (rest.includes('/')) return undefined;
  if ((await deps.proxy!.upstreamType(target)) !== 'docker-hub') return undefined;
  return `${target.project.name}/library/${rest}`;
}

/** Harbor's `proxy_referrer_api`: the upstream's referrers; undefined when the cache answers. */
async function proxyReferrers(
  deps: RegistryDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  target: ProxyTarget,
  route: { name: string; digest: string },
): Promise<FastifyReply | undefined> {
  const query = new URLSearchParams(req.url.split('?')[1] ?? '');
  const page = await deps.proxy!.referrers(contextOf(req), target, route.name, route.digest, query);
  if (!page) return undefined;
  // A Buffer, so Fastify does not append `; charset=utf-8`: clients compare the media type exactly.
  return reply
    .code(200)
    .headers(page.headers)
    .type('application/vnd.oci.image.index.v1+json')
    .send(page.body);
}

async function proxyManifest(
  deps: RegistryDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  target: ProxyTarget,
  name: string,
  ref: string,
) {
  const head = req.method === 'HEAD';
  const accept = parseAccept(req.headers.accept);
  const manifest = await deps.proxy!.manifest(contextOf(req), target, name, ref, accept, head);
  reply.code(200).headers(manifestHeaders(manifest));
  return head || !manifest.body ? reply.send() : reply.send(manifest.body);
}

async function proxyBlob(
  deps: RegistryDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  target: ProxyTarget,
  name: string,
  digest: string,
) {
  const ctx = contextOf(req);
  if (req.method === 'HEAD') {
    const blob = await deps.proxy!.statBlob(ctx, target, name, digest);
    return reply
      .code(200)
      .headers({ ...blobHeaders(blob.digest), 'content-length': blob.size })
      .send();
  }
  const blob = await deps.proxy!.openBlob(ctx, target, name, digest, parseRange(req.headers.range));
  return sendBlob(reply, blob);
}
