import type { FastifyInstance } from 'fastify';
import { ContentBoundError, parseBoundedJson } from '../../lib/bounded-json.js';
import { AppError } from '../../lib/errors.js';
import type { ApiDeps } from './deps.js';
import { sendHarborError } from './harbor-errors.js';
import { openApiDocument } from './openapi.js';
import { configureRoutes } from './configure.js';
import { ldapRoutes } from './ldap.js';
import { memberRoutes } from './member.js';
import { pingRoutes } from './ping.js';
import { auditlogRoutes } from './auditlog.js';
import { robotRoutes } from './robot.js';
import { usergroupRoutes } from './usergroup.js';
import { userRoutes } from './user.js';
import { artifactRoutes } from './artifact.js';
import { healthRoutes } from './health.js';
import { immutableRoutes } from './immutable.js';
import { labelRoutes } from './label.js';
import { projectRoutes } from './project.js';
import { projectMetadataRoutes } from './project-metadata.js';
import { quotaRoutes } from './quota.js';
import { repositoryRoutes } from './repository.js';
import { searchRoutes } from './search.js';
import { statisticRoutes } from './statistic.js';
import { systeminfoRoutes } from './systeminfo.js';
import { registryRoutes } from './registry.js';
import { replicationRoutes } from './replication.js';
import { jobserviceRoutes } from './jobservice.js';
import { purgeRoutes } from './purge.js';
import { scheduleRoutes } from './schedule.js';
import { retentionRoutes } from './retention.js';
import { gcRoutes } from './gc.js';
import { insightsRoutes } from './insights.js';
import { webhookRoutes } from './webhook.js';
import { scanRoutes } from './scan.js';
import { scanAllRoutes } from './scan-all.js';
import { securityhubRoutes } from './securityhub.js';
import { scanDataExportRoutes } from './scan-data-export.js';
import { scannerRoutes } from './scanner.js';
import { projectScannerRoutes } from './project-scanner.js';
import { systemCveAllowlistRoutes } from './system-cve-allowlist.js';
import { ApiRouter } from './router.js';
import { permissionsRoutes } from './permissions.js';
import { systeminfoCertRoutes } from './systeminfo-cert.js';
import { projectArtifactRoutes } from './project-artifacts.js';
import { iconRoutes } from './icon.js';
import { oidcRoutes } from './oidc.js';
import { preheatRoutes } from './preheat.js';

/** JSON bodies on /api/v2.0 are small documents; anything larger is refused before parsing. */
export const apiBodyLimit = 1024 * 1024;

/**
 * Harbor's REST API at /api/v2.0 (mount with that prefix). Own body parser (JSON only, whatever the
 * Content-Type claims, as curl users often omit it), own error renderer and not-found answer, both in
 * Harbor's `{"errors":[{code,message}]}` shape. Each swagger tag registers its operations on the router.
 */
export async function apiPlugin(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: apiBodyLimit }, (_req, body, done) => {
    const text = String(body);
    if (text.trim() === '') return done(null, undefined);
    try {
      // Depth-bounded: a body is validated, stored and rendered again, all by recursive walks.
      done(null, parseBoundedJson(text));
    } catch (err) {
      const deep = err instanceof ContentBoundError && err.bound === 'depth';
      done(
        new AppError('BAD_REQUEST', deep ? `request body ${err.message}` : 'request body is not valid JSON'),
        undefined,
      );
    }
  });
  app.setErrorHandler((err, req, reply) => sendHarborError(req, reply, err));
  // Credentials that were sent and failed are refused outright: going on as anonymous would turn a
  // mistyped password into a puzzling 404 for a private project.
  app.addHook('onRequest', async (req) => {
    if (req.credentialsRejected) throw new AppError('UNAUTHORIZED', 'invalid username or password');
  });
  app.setNotFoundHandler((req, reply) =>
    sendHarborError(
      req,
      reply,
      new AppError(
        'NOT_FOUND',
        `no such API endpoint: ${req.method} ${req.url.split('?', 1)[0]!.slice(0, 200)}`,
      ),
    ),
  );

  const api = new ApiRouter(app);
  pingRoutes(api);
  if (deps.identity) {
    userRoutes(api, deps);
    memberRoutes(api, deps);
    robotRoutes(api, deps);
    usergroupRoutes(api, deps);
    auditlogRoutes(api, deps);
    permissionsRoutes(api, deps.identity);
  }
  healthRoutes(api, deps);
  systeminfoRoutes(api, deps);
  systeminfoCertRoutes(api, deps);
  statisticRoutes(api, deps);
  searchRoutes(api, deps);
  projectRoutes(api, deps);
  projectArtifactRoutes(api, deps);
  projectMetadataRoutes(api, deps);
  repositoryRoutes(api, deps);
  artifactRoutes(api, deps);
  iconRoutes(api);
  scanRoutes(api, deps);
  scanAllRoutes(api, deps);
  systemCveAllowlistRoutes(api, deps);
  labelRoutes(api, deps);
  immutableRoutes(api, deps);
  quotaRoutes(api, deps);
  ldapRoutes(api, deps.can, deps.ldap);
  registryRoutes(api, deps);
  replicationRoutes(api, deps);
  retentionRoutes(api, deps);
  configureRoutes(api, deps);
  oidcRoutes(api, deps);
  jobserviceRoutes(api, deps);
  scheduleRoutes(api, deps);
  purgeRoutes(api, deps);
  gcRoutes(api, deps);
  insightsRoutes(api, deps);
  webhookRoutes(api, deps);
  securityhubRoutes(api, deps);
  scanDataExportRoutes(api, deps);
  scannerRoutes(api, deps);
  projectScannerRoutes(api, deps);
  preheatRoutes(api, deps);

  let doc: unknown;
  app.get(
    '/swagger.json',
    { exposeHeadRoute: false },
    async () => (doc ??= openApiDocument(api, deps.version)),
  );
}
