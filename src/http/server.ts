import { randomUUID } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { Histogram, Registry } from 'prom-client';
import type { Logger } from '../lib/logger.js';
import { sessionPlugin, type SessionDeps } from './session.js';
import type { ApiDeps } from './api/deps.js';
import { sendHarborError } from './api/harbor-errors.js';
import { apiPlugin } from './api/index.js';
import type { AuditLog } from '../services/audit/audit-log.js';
import { installAudit } from './audit-hook.js';
import { installAuth, type AuthHttpDeps } from './auth.js';
import { healthPlugin, type HealthCheck } from './health.js';
import { metricsPlugin, surfaceOf } from './metrics.js';
import type { RegistryDeps } from './registry/deps.js';
import { registryFrameworkError, registryPlugin } from './registry/index.js';
import { uiPlugin, type UiDeps } from './ui.js';
import { oidcPlugin, type OidcHttpDeps } from './oidc.js';
import { tokenPlugin, type TokenDeps } from './token.js';

export interface HttpDeps {
  logger: Logger;
  trustProxy: boolean;
  registry: RegistryDeps;
  api: ApiDeps;
  auth: AuthHttpDeps;
  /** Harbor's UI login (/c/login, /c/log_out). */
  session: SessionDeps;
  token: TokenDeps;
  health: HealthCheck[];
  metrics: {
    registry: Registry;
    requests: Histogram<'method' | 'surface' | 'status'>;
    /** Every worker's metrics merged (serve --workers); this process's registry alone when unset. */
    gather?: () => Promise<string>;
  };
  /** Under `serve --workers N`: this worker's pid, answered as X-Berth-Worker. */
  workerPid?: number;
  ui: UiDeps;
  /** Browser login through the OpenID provider (auth.mode oidc_auth). */
  oidc?: OidcHttpDeps;
  /** Where registry pushes, pulls and deletes and API changes are recorded. */
  audit?: AuditLog;
}

function noSchemas(): never {
  throw new Error('Berth routes declare no fastify schema: validate in the handler');
}

/** Mounts each surface as its own encapsulated plugin, with its own parsers and error renderer. */
export function buildServer(deps: HttpDeps): FastifyInstance {
  const app: FastifyInstance = Fastify({
    loggerInstance: deps.logger,
    trustProxy: deps.trustProxy,
    // One access-log line per request (below), not pino's two.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    genReqId: () => randomUUID(),
    // Uploads are long; a stalled client is cut by the socket timeout, not the request timeout.
    requestTimeout: 0,
    connectionTimeout: 0,
    keepAliveTimeout: 65_000,
    routerOptions: { ignoreDuplicateSlashes: false, maxParamLength: 1000 },
    // Raised before routing, so no surface's error handler sees them: render them as the path's surface would.
    frameworkErrors: onFrameworkError,
    // No route declares a JSON schema (bodies are parsed by each surface), so fastify's default compilers
    // (ajv and fast-json-stringify, ~120 modules and ~8 MiB held for the life of the process) are never
    // loaded; a route that did declare one would fail loudly at start.
    schemaController: { compilersFactory: { buildValidator: noSchemas, buildSerializer: noSchemas } },
  }) as unknown as FastifyInstance;
  const worker = deps.workerPid === undefined ? undefined : String(deps.workerPid);
  app.addHook('onRequest', async (req, reply) => {
    reply.header('x-request-id', req.id);
    if (worker) reply.header('x-berth-worker', worker);
  });
  // Once closing, every answer still to be sent ends its connection, so a keep-alive connection whose
  // request was in flight when close() began does not hold the close open until its idle timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (_req, reply) => {
    if (closing) reply.header('connection', 'close');
  });
  app.addHook('onResponse', async (req, reply) => {
    const ms = reply.elapsedTime;
    deps.metrics.requests.observe(
      { method: req.method, surface: surfaceOf(req.url), status: String(reply.statusCode) },
      ms / 1000,
    );
    req.log.info(
      {
        method: req.method,
        // The OIDC callback's query holds the authorization code: not for the log.
        url: req.url.startsWith('/c/oidc/callback') ? '/c/oidc/callback' : req.url,
        status: reply.statusCode,
        ms: Math.round(ms * 10) / 10,
        ip: req.ip,
      },
      'request',
    );
  });
  installAuth(app, deps.auth);
  if (deps.audit) installAudit(app, deps.audit);
  void app.register(registryPlugin, deps.registry);
  void app.register(apiPlugin, { ...deps.api, prefix: '/api/v2.0' });
  void app.register(tokenPlugin, deps.token);
  void app.register(sessionPlugin, deps.session);
  if (deps.oidc) void app.register(oidcPlugin, deps.oidc);
  void app.register(healthPlugin, deps.health);
  void app.register(metricsPlugin, deps.metrics);
  void app.register(uiPlugin, deps.ui);
  return app;
}

function onFrameworkError(err: FastifyError, req: FastifyRequest, reply: FastifyReply): FastifyReply {
  if (surfaceOf(req.url) === 'registry') return registryFrameworkError(err, req, reply);
  if (surfaceOf(req.url) === 'api') return sendHarborError(req, reply, err);
  const statusCode = err.statusCode ?? 400;
  return reply.code(statusCode).send({ statusCode, code: err.code, message: err.message });
}
