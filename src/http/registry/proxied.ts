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
 * as Harbor does. True when it answered; false when the request is not one the proxy handles (deletes, ...).
 * (It never hands the reply back: a FastifyReply is a thenable, so awaiting one returned from an async
 * function waits for the answer to be sent and yields undefined, and the caller then ran the normal
 * handler for the same request as well.)
 */
export async function proxied(
  deps: RegistryDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  route: RegistryRoute,
): Promise<boolean> {
  if (!deps.proxy || !('name' in route)) return false;
  const target = await deps.proxy.target(route.name);
  if (!target) return false;
  const m = req.method;
  const pull = m === 'GET' || m === 'HEAD';
  if (
    (route.kind === 'manifest' && m === 'PUT') ||
    route.kind === 'uploads' ||
    (route.kind === 'upload' && m !== 'DELETE' && !pull)
  )
    throw new AppError('DENIED', `can not push artifact to a proxy project: ${target.project.name}`);
  if (route.kind === 'referrers' && m === 'GET') return proxyReferrers(deps, req, reply, target, route);
  if (!pull || (route.kind !== 'manifest' && route.kind !== 'blob' && route.kind !== 'tags')) return false;
  const redirect = await dockerHubLibrary(deps, target, route.name);
  if (redirect) {
    const rest = req.url.slice(`/v2/${route.name}`.length);
    reply.redirect(`/v2/${redirect}${rest}`, 301);
    return true;
  }
  if (route.kind === 'manifest') await proxyManifest(deps, req, reply, target, route.name, route.reference);
  else if (route.kind === 'blob') await proxyBlob(deps, req, reply, target, route.name, route.digest);
  else if (m === 'GET') await proxyTags(deps, req, reply, target, route.name);
  else return false;
  return true;
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
  sendTagPage(reply, page, n);
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

/** Harbor's `proxy_referrer_api`: the upstream's referrers; false when the cache answers. */
async function proxyReferrers(
  deps: RegistryDeps,
  req: FastifyRequest,
  reply: FastifyReply,
  target: ProxyTarget,
  route: { name: string; digest: string },
): Promise<boolean> {
  const query = new URLSearchParams(req.url.split('?')[1] ?? '');
  const page = await deps.proxy!.referrers(contextOf(req), target, route.name, route.digest, query);
  if (!page) return false;
  // A Buffer, so Fastify does not append `; charset=utf-8`: clients compare the media type exactly.
  reply.code(200).headers(page.headers).type('application/vnd.oci.image.index.v1+json').send(page.body);
  return true;
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
  reply.send(head ? undefined : manifest.body);
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
    reply
      .code(200)
      .headers({ ...blobHeaders(blob.digest), 'content-length': blob.size })
      .send();
    return;
  }
  const blob = await deps.proxy!.openBlob(ctx, target, name, digest, parseRange(req.headers.range));
  sendBlob(reply, blob);
}
