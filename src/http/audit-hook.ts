import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { AuditEntry, AuditLog } from '../services/audit/audit-log.js';
import { operatorOf } from '../services/access/subject.js';

const manifestPath = /^\/v2\/(.+)\/manifests\/([^/]+)$/;
const operations: Record<string, string> = {
  POST: 'create',
  PUT: 'update',
  PATCH: 'update',
  DELETE: 'delete',
};
const collections = new Set([
  'projects',
  'repositories',
  'artifacts',
  'tags',
  'labels',
  'members',
  'robots',
  'users',
  'usergroups',
  'metadatas',
  'immutabletagrules',
  'retentions',
  'registries',
  'replication',
  'policies',
  'executions',
  'scanners',
  'webhook',
  'quotas',
]);

/**
 * Records an audit entry for every manifest push, pull and delete on /v2, and every create, update and
 * delete through /api/v2.0 (with its outcome), after the answer is sent. Writing is batched by AuditLog.
 */
export function installAudit(app: FastifyInstance, audit: AuditLog): void {
  app.addHook('onResponse', async (req, reply) => {
    const entry = entryOf(req, reply.statusCode);
    if (entry) audit.record(entry);
  });
}

function entryOf(req: FastifyRequest, status: number): AuditEntry | undefined {
  const path = req.url.split('?', 1)[0]!;
  const who = {
    username: operatorOf(req.subject),
    clientIp: req.ip,
    userAgent: String(req.headers['user-agent'] ?? ''),
  };
  if (path.startsWith('/v2/')) {
    const m = manifestPath.exec(safeDecode(path));
    if (!m) return undefined;
    const [, name, ref] = m as unknown as [string, string, string];
    const op =
      req.method === 'GET' && status === 200
        ? 'pull'
        : req.method === 'PUT' && status === 201
          ? 'create'
          : req.method === 'DELETE' && status === 202
            ? 'delete'
            : undefined;
    if (!op) return undefined;
    const resource = ref.includes(':') ? `${name}@${ref}` : `${name}:${ref}`;
    return {
      ...who,
      project: { name: name.split('/', 1)[0]! },
      operation: op,
      resourceType: 'artifact',
      resource,
      success: true,
    };
  }
  const operation = operations[req.method];
  if (!operation || !path.startsWith('/api/v2.0/') || status === 401 || status === 404) return undefined;
  const segments = path.slice('/api/v2.0/'.length).split('/').map(safeDecode);
  const type = [...segments].reverse().find((s) => collections.has(s)) ?? segments[0] ?? '';
  let project: AuditEntry['project'];
  if (segments[0] === 'projects' && segments[1]) {
    const ref = segments[1];
    project =
      req.headers['x-is-resource-name'] === 'true' || !/^\d+$/.test(ref)
        ? { name: ref }
        : { id: Number(ref) };
  }
  return {
    ...who,
    project,
    operation,
    resourceType: type.replace(/ies$/, 'y').replace(/s$/, ''),
    resource: segments.join('/'),
    success: status < 400,
  };
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
