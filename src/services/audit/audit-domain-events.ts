import { operatorName, type Actor } from '../context.js';
import type { EventBus } from '../events.js';
import { formatBytes } from '../policies/quota/storage-limit.js';
import type { AuditEntry, AuditLog } from './audit-log.js';

/**
 * The audit log as a subscriber of the domain events (the composition root calls this once). A change a
 * client asked for is recorded from the event that describes it, when the event names its actor: the
 * changes jobs make (replication, retention, GC) carry none and are not recorded here. Requests refused
 * before any change, and the API operations no event describes (projects, members, robots, users, …),
 * are recorded by the HTTP layer's hook, http/audit-hook.ts.
 */
export function auditDomainEvents(events: EventBus, audit: AuditLog): void {
  const record = (
    actor: Actor | undefined,
    repository: string,
    entry: Pick<AuditEntry, 'operation' | 'resourceType' | 'resource'>,
  ) => {
    if (!actor || actor.audited === false) return;
    const { username, clientIp, userAgent } = actor;
    audit.record({
      username,
      clientIp,
      userAgent,
      ...entry,
      project: { name: repository.split('/', 1)[0]! },
      success: true,
    });
  };
  const artifactOf = (e: { repository: string; digest: string; tag?: string | null }) =>
    e.tag ? `${e.repository}:${e.tag}` : `${e.repository}@${e.digest}`;

  events.on('ArtifactPulled', (e) =>
    record(e.actor, e.repository, { operation: 'pull', resourceType: 'artifact', resource: artifactOf(e) }),
  );
  events.on('ArtifactPushed', (e) =>
    record(e.actor, e.repository, { operation: 'create', resourceType: 'artifact', resource: artifactOf(e) }),
  );
  events.on('ArtifactDeleted', (e) =>
    record(e.actor, e.repository, { operation: 'delete', resourceType: 'artifact', resource: artifactOf(e) }),
  );
  events.on('TagCreated', (e) =>
    record(e.actor, e.repository, {
      operation: 'create',
      resourceType: 'tag',
      resource: `${e.repository}:${e.tag}`,
    }),
  );
  events.on('TagDeleted', (e) =>
    record(e.actor, e.repository, {
      operation: 'delete',
      resourceType: 'tag',
      resource: `${e.repository}:${e.tag}`,
    }),
  );
  events.on('RepositoryDeleted', (e) =>
    record(e.actor, e.repository, {
      operation: 'delete',
      resourceType: 'repository',
      resource: e.repository,
    }),
  );
  // A refused push leaves nothing but this row (the 403 itself is the hook's, as any refused request).
  events.on('QuotaExceeded', (e) =>
    audit.record({
      project: { id: e.projectId },
      operation: 'exceed',
      resourceType: 'quota',
      resource: `${e.repository}@${e.digest}: adding ${formatBytes(e.adding)} to ${formatBytes(e.used)} of ${formatBytes(e.hard)}`,
      username: operatorName(e.actor) ?? '',
      clientIp: '',
      userAgent: '',
      success: false,
    }),
  );
}
