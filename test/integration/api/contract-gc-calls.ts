// The calls of the contract test for Harbor's `gc` tag (kept apart: contract.test.ts is long).

import type { ApiResponse, HarborApi } from '../../helpers/harbor-api.js';

/** One call of the contract test (as contract.test.ts plans them). */
export interface Call {
  op: string;
  method: string;
  path: string;
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /** Harbor's error (code and message) the answer must carry. */
  error?: { code: string; message: string };
}

/** The contract test's runner of a plan: ids filled in by `fill`, answers seen by `seen`; returns failures. */
export type RunCalls = (
  plan: Call[],
  exercised: Set<string>,
  fill: (call: Call) => Call,
  seen: (call: Call, res: ApiResponse) => void,
) => Promise<string[]>;

/** Every operation of the `gc` tag; `{id}` is the run started by the first call. */
export function gcCalls(): Call[] {
  const run = { schedule: { type: 'Manual' }, parameters: { dry_run: true, workers: 2 } };
  return [
    { op: 'getGCSchedule', method: 'GET', path: '/system/gc/schedule', status: 200 },
    { op: 'createGCSchedule', method: 'POST', path: '/system/gc/schedule', body: run, status: 201 },
    {
      op: 'createGCSchedule',
      method: 'POST',
      path: '/system/gc/schedule',
      body: { schedule: { type: 'Manual' }, parameters: { workers: 11 } },
      status: 400,
    },
    {
      op: 'updateGCSchedule',
      method: 'PUT',
      path: '/system/gc/schedule',
      body: { schedule: { type: 'Weekly' }, parameters: { delete_untagged: true } },
      status: 200,
    },
    {
      op: 'updateGCSchedule',
      method: 'PUT',
      path: '/system/gc/schedule',
      body: { schedule: { type: 'Custom', cron: 'every day' } },
      status: 400,
    },
    { op: 'getGCSchedule', method: 'GET', path: '/system/gc/schedule', status: 200 },
    { op: 'getGCHistory', method: 'GET', path: '/system/gc?page=1&page_size=10', status: 200 },
    { op: 'getGC', method: 'GET', path: '/system/gc/{id}', status: 200 },
    { op: 'getGC', method: 'GET', path: '/system/gc/999999', status: 404 },
    { op: 'getGCLog', method: 'GET', path: '/system/gc/{id}/log', status: 200 },
    { op: 'getGCLog', method: 'GET', path: '/system/gc/999999/log', status: 404 },
    { op: 'stopGC', method: 'PUT', path: '/system/gc/{id}', status: 200 },
    { op: 'stopGC', method: 'PUT', path: '/system/gc/999999', status: 404 },
  ];
}

/**
 * Where Harbor's own answers differ from its swagger.yaml, Berth answers as Harbor does:
 * - ExtraAttrs declares object values, but Harbor puts strings there (architecture, os, author, created);
 * - deleting an artifact an index still lists is 412 (VIOLATE_FOREIGN_KEY_CONSTRAINT) though undeclared;
 * - a missing replication policy is 404 (its controller's NotFound), which getReplicationPolicy omits;
 * - the Retention operations declare no 400/404, yet Harbor answers a missing policy, execution or task with
 *   404 and bad input with 400; RetentionRule.params declares object values, but Harbor's portal sends and
 *   Harbor answers numbers (`{"latestPushedK": 10}`).
 */
export const undeclaredButHarbor = new Set([
  'deleteArtifact 412',
  'CreateWebhookPolicyOfProject 409',
  'getReplicationPolicy 404',
  ...['getRetention 404', 'updateRetention 400', 'triggerRetentionExecution 404', 'deleteRetention 404'],
  ...['listRetentionTasks 404', 'getRetentionTaskLog 404', 'operateRetentionExecution 400'],
]);

/**
 * Statuses Harbor's swagger does not declare and Harbor does not answer either, by choice: Harbor's
 * allowlist validator refuses a list naming a CVE twice, but its handler lets that plain error through as a
 * 500 "internal server error"; Berth answers the client's mistake as 400 with the validator's message.
 */
export const undeclaredOnPurpose = new Set(['putSystemCVEAllowlist 400']);

/** Whether `op status` (a status Harbor's swagger does not declare) is one of the exceptions above. */
export const undeclaredAllowed = (key: string) =>
  undeclaredButHarbor.has(key) || undeclaredOnPurpose.has(key);

/** Why the answer does not carry the call's Harbor error (code and message), if it does not. */
export function errorMismatch(call: Call, res: ApiResponse): string | undefined {
  if (!call.error) return undefined;
  const [first] = (res.body as { errors?: { code: string; message: string }[] }).errors ?? [];
  if (first?.code === call.error.code && first.message === call.error.message) return undefined;
  return `error ${JSON.stringify(first)}, want ${JSON.stringify(call.error)}`;
}

/** Lists Harbor answers whole, without paging (and so without X-Total-Count). */
export const unpagedLists = new Set([
  'listRegistryProviderTypes',
  'listRegistryProviderInfos',
  'ListProviders',
  'ListProvidersUnderProject',
]);

/** Operation ids Berth declares (in its swagger.json) under the given tags. */
export async function declaredUnder(api: HarborApi, tags: Set<string>): Promise<string[]> {
  const ours = (
    await api.expect<{ paths: Record<string, Record<string, { operationId: string; tags?: string[] }>> }>(
      200,
      'GET',
      '/swagger.json',
    )
  ).body;
  return Object.values(ours.paths).flatMap((p) =>
    Object.values(p)
      .filter((o) => (o.tags ?? []).some((t) => tags.has(t)))
      .map((o) => o.operationId),
  );
}
