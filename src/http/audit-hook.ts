import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { AuditEntry, AuditLog } from '../services/audit/audit-log.js';
import { anonymous, operatorOf } from '../services/access/subject.js';

const manifestPath = /^\/v2\/(.+)\/manifests\/([^/]+)$/;
const apiPrefix = '/api/v2.0/';
const operations: Record<string, string> = {
  POST: 'create',
  PUT: 'update',
  PATCH: 'update',
  DELETE: 'delete',
};
/** Path segments naming a kind of resource; the last one in a path is the resource type. */
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
  'configurations',
  'password',
  'cli_secret',
  'sysadmin',
]);
/** Calls that change nothing though they are POSTs (connection checks). */
const probes = new Set(['ping']);

/** The resource types the hook records, for Harbor's event-type list (`<operation>_<type>`). */
export const auditedResourceTypes = [
  'artifact',
  ...[...collections].map(singular).filter((t) => t !== 'artifact'),
];

/**
 * Records, after the answer is sent, what no domain event describes: every refused manifest push and
 * delete on /v2 (and pull refused by policy), and every create, update and delete through /api/v2.0 with its outcome, except the
 * successful ones an event records (`eventAudited`: services/audit/audit-domain-events.ts writes those
 * rows from ArtifactPushed, ArtifactDeleted, TagCreated, TagDeleted and RepositoryDeleted). Recording only
 * appends to AuditLog's buffer: no request waits on the database.
 */
export function installAudit(app: FastifyInstance, audit: AuditLog): void {
  app.addHook('onResponse', async (req, reply) => {
    const entry = entryOf(req, reply);
    if (entry) audit.record(entry);
  });
}

function entryOf(req: FastifyRequest, reply: FastifyReply): AuditEntry | undefined {
  const status = reply.statusCode;
  const path = req.url.split('?', 1)[0]!;
  const who = {
    // Framework errors (a malformed URL) answer before authentication ran: nobody is known then.
    username: operatorOf(req.subject ?? anonymous),
    clientIp: req.ip,
    userAgent: String(req.headers['user-agent'] ?? ''),
  };
  if (path.startsWith('/v2/')) {
    const m = manifestPath.exec(safeDecode(path));
    if (!m) return undefined;
    const [, name, ref] = m as unknown as [string, string, string];
    const op = registryOperation(req.method, status);
    if (!op || op.success) return undefined;
    return {
      ...who,
      project: { name: name.split('/', 1)[0]! },
      operation: op.operation,
      resourceType: 'artifact',
      resource: ref.includes(':') ? `${name}@${ref}` : `${name}:${ref}`,
      success: op.success,
    };
  }
  const operation = operations[req.method];
  if (!operation || !path.startsWith(apiPrefix) || status === 401 || status === 404) return undefined;
  const segments = path.slice(apiPrefix.length).split('/').filter(Boolean).map(safeDecode);
  if (segments.some((s) => probes.has(s))) return undefined;
  if (status < 400 && eventAudited(req.method, segments)) return undefined;
  const type = [...segments].reverse().find((s) => collections.has(s)) ?? segments[0] ?? '';
  let project: AuditEntry['project'];
  if (segments[0] === 'projects' && segments[1]) {
    const ref = segments[1];
    project =
      req.headers['x-is-resource-name'] === 'true' || !/^\d+$/.test(ref)
        ? { name: ref }
        : { id: Number(ref) };
  }
  // A create names what it makes: by the name in its body, else by the Location of the answer.
  const location = String(reply.getHeader('location') ?? '');
  const named = req.method === 'POST' ? nameIn(req.body) : undefined;
  const resource = named
    ? `${segments.join('/')}/${named}`
    : status < 300 && location.startsWith(apiPrefix)
      ? location.slice(apiPrefix.length)
      : segments.join('/');
  return {
    ...who,
    project,
    operation,
    resourceType: singular(type),
    resource,
    success: status < 400,
  };
}

/**
 * Pushes and deletes, done or refused (not the 401 challenge); the caller keeps only the refused ones,
 * since a done one raised ArtifactPushed, ArtifactDeleted or TagDeleted. Pulls are recorded from
 * ArtifactPulled.
 */
function registryOperation(
  method: string,
  status: number,
): { operation: string; success: boolean } | undefined {
  // A pull refused by the vulnerability policy (412 PROJECTPOLICYVIOLATION) is audited as a failed pull.
  if (method === 'GET' && status === 412) return { operation: 'pull', success: false };
  const operation = method === 'PUT' ? 'create' : method === 'DELETE' ? 'delete' : undefined;
  if (!operation || status === 401) return undefined;
  return { operation, success: status < 400 };
}

/**
 * API calls whose success raises the event the audit log records instead: deleting a repository
 * (`projects/p/repositories/r`), an artifact (`…/artifacts/a`), creating or deleting a tag
 * (`…/artifacts/a/tags[/t]`).
 */
function eventAudited(method: string, s: string[]): boolean {
  if (s[0] !== 'projects' || s[2] !== 'repositories') return false;
  if (method === 'DELETE' && (s.length === 4 || (s.length === 6 && s[4] === 'artifacts'))) return true;
  if (s[4] !== 'artifacts' || s[6] !== 'tags') return false;
  return (method === 'POST' && s.length === 7) || (method === 'DELETE' && s.length === 8);
}

/** The name a create request gives its new resource, if it has one. */
function nameIn(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  for (const key of ['project_name', 'name', 'username', 'group_name']) {
    const v = (body as Record<string, unknown>)[key];
    if (typeof v === 'string' && v !== '') return v.slice(0, 255);
  }
  return undefined;
}

function singular(type: string): string {
  return type.replace(/ies$/, 'y').replace(/s$/, '');
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
