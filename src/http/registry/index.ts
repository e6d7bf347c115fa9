import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../lib/errors.js';
import { authorize } from './authorize.js';
import { deleteBlob, getBlob, headBlob } from './blobs.js';
import type { RegistryDeps } from './deps.js';
import { catalog, listReferrers, listTags } from './listings.js';
import { deleteManifest, getManifest, putManifest } from './manifests.js';
import { sendOciError } from './oci-errors.js';
import { parseRegistryPath } from './paths.js';
import { proxied } from './proxied.js';
import { deleteUpload, getUpload, patchUpload, putUpload, startUpload } from './uploads.js';

/**
 * The OCI distribution API at /v2. Repository names contain slashes, so one wildcard route parses the
 * path itself. Bodies are never parsed here: handlers stream `request.raw`.
 */
export async function registryPlugin(app: FastifyInstance, deps: RegistryDeps): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', (_req, _payload, done) => done(null));
  app.setErrorHandler((err, req, reply) => sendOciError(req, reply, err));
  app.addHook('onRequest', async (_req, reply) => {
    reply.header('docker-distribution-api-version', 'registry/2.0');
  });

  const handler = (req: FastifyRequest, reply: FastifyReply) => dispatch(deps, req, reply);
  const methods = ['GET', 'HEAD', 'PUT', 'POST', 'PATCH', 'DELETE'];
  app.route({ method: methods, url: '/v2', handler });
  app.route({ method: methods, url: '/v2/*', handler });
}

/** Renders the errors Fastify raises before routing a /v2 request: a malformed percent-encoding. */
export function registryFrameworkError(err: Error, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  const bad = (err as { code?: string }).code === 'FST_ERR_BAD_URL';
  return sendOciError(
    req,
    reply,
    bad ? new AppError('NAME_INVALID', 'malformed percent-encoding in path') : err,
  );
}

async function dispatch(deps: RegistryDeps, req: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> {
  const path = req.url.split('?', 1)[0]!;
  let rest: string;
  try {
    rest = path === '/v2' ? '' : decodeURIComponent(path.slice('/v2/'.length));
  } catch {
    throw new AppError('NAME_INVALID', 'malformed percent-encoding in path');
  }
  const route = parseRegistryPath(rest);
  const m = req.method;
  if (route) {
    await authorize(deps, req, reply, route);
    if (await proxied(deps, req, reply, route)) return reply;
  }
  switch (route?.kind) {
    case 'base':
      if (m === 'GET' || m === 'HEAD')
        // HEAD too: Node drops the body and Content-Length stays as for GET.
        return reply.code(200).type('application/json').send('{}');
      break;
    case 'catalog':
      if (m === 'GET') return catalog(deps, req, reply);
      break;
    case 'tags':
      if (m === 'GET') return listTags(deps, req, reply, route.name);
      break;
    case 'referrers':
      if (m === 'GET') return listReferrers(deps, req, reply, route.name, route.digest);
      break;
    case 'manifest':
      if (m === 'GET' || m === 'HEAD') return getManifest(deps, req, reply, route.name, route.reference);
      if (m === 'PUT') return putManifest(deps, req, reply, route.name, route.reference);
      if (m === 'DELETE') return deleteManifest(deps, req, reply, route.name, route.reference);
      break;
    case 'blob':
      if (m === 'HEAD') return headBlob(deps, req, reply, route.name, route.digest);
      if (m === 'GET') return getBlob(deps, req, reply, route.name, route.digest);
      if (m === 'DELETE') return deleteBlob(deps, req, reply, route.name, route.digest);
      break;
    case 'uploads':
      if (m === 'POST') return startUpload(deps, req, reply, route.name);
      break;
    case 'upload':
      if (m === 'PATCH') return patchUpload(deps, req, reply, route.name, route.id);
      if (m === 'PUT') return putUpload(deps, req, reply, route.name, route.id);
      if (m === 'GET') return getUpload(deps, req, reply, route.name, route.id);
      if (m === 'DELETE') return deleteUpload(deps, req, reply, route.name, route.id);
      break;
    default:
      throw new AppError('NOT_FOUND', `no such registry endpoint: ${path.slice(0, 200)}`);
  }
  throw new AppError('UNSUPPORTED', `${m} is not supported on ${path.slice(0, 200)}`);
}
