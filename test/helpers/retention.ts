import assert from 'node:assert/strict';
import { connect } from '../../src/db/connect.js';
import type { HarborApi } from './harbor-api.js';
import { waitFor } from './wait.js';

export interface RuleSpec {
  template: string;
  n?: number;
  tags?: string;
  decoration?: 'matches' | 'excludes';
  untagged?: boolean;
  repos?: string;
  repoDecoration?: 'repoMatches' | 'repoExcludes';
  disabled?: boolean;
}

/** One rule in Harbor's JSON, from a short spec (tags `**`, repositories `**` unless given). */
export function rule(spec: RuleSpec) {
  return {
    disabled: spec.disabled ?? false,
    action: 'retain',
    template: spec.template,
    params: spec.n === undefined ? {} : { [spec.template]: spec.n },
    tag_selectors: [
      {
        kind: 'doublestar',
        decoration: spec.decoration ?? 'matches',
        pattern: spec.tags ?? '**',
        ...(spec.untagged === undefined ? {} : { extras: JSON.stringify({ untagged: spec.untagged }) }),
      },
    ],
    scope_selectors: {
      repository: [
        { kind: 'doublestar', decoration: spec.repoDecoration ?? 'repoMatches', pattern: spec.repos ?? '**' },
      ],
    },
  };
}

/** A project policy as Harbor's UI sends it. */
export function retentionPolicy(projectId: number, rules: RuleSpec[], cron = '') {
  return {
    algorithm: 'or',
    rules: rules.map(rule),
    trigger: { kind: 'Schedule', settings: { cron }, references: {} },
    scope: { level: 'project', ref: projectId },
  };
}

export async function createRetention(api: HarborApi, projectId: number, rules: RuleSpec[]): Promise<number> {
  const res = await api.expect(201, 'POST', '/retentions', retentionPolicy(projectId, rules));
  return Number(/\/(\d+)$/.exec(res.headers.get('location') ?? '')![1]);
}

export interface RetentionTaskView {
  id: number;
  repository: string;
  status: string;
  total: number;
  retained: number;
}

/** Triggers a run, waits for it to end, and returns its status, tasks and each task's log by repository. */
export async function runRetention(api: HarborApi, policyId: number, dryRun: boolean, timeoutMs = 20_000) {
  const res = await api.expect(201, 'POST', `/retentions/${policyId}/executions`, { dry_run: dryRun });
  const eid = Number(/\/(\d+)$/.exec(res.headers.get('location') ?? '')![1]);
  const execution = await waitFor(
    `retention execution ${eid} to end`,
    async () => {
      const list = await api.expect<{ id: number; status: string; dry_run: boolean }[]>(
        200,
        'GET',
        `/retentions/${policyId}/executions?page_size=100`,
      );
      const e = list.body.find((x) => x.id === eid);
      return e && e.status !== 'Running' ? e : undefined;
    },
    timeoutMs,
    50,
  );
  const tasks = (
    await api.expect<RetentionTaskView[]>(
      200,
      'GET',
      `/retentions/${policyId}/executions/${eid}/tasks?page_size=100`,
    )
  ).body;
  const logs = new Map<string, string>();
  for (const t of tasks) {
    const log = await api.expect<string>(
      200,
      'GET',
      `/retentions/${policyId}/executions/${eid}/tasks/${t.id}`,
    );
    logs.set(t.repository, log.text);
  }
  return { id: eid, execution, tasks, logs };
}

/** The decision a task log records for an artifact: RETAIN, DEL, IMMUTABLE or ERR, with the reason. */
export function decisionOf(log: string, digest: string): { mark: string; why: string } {
  const line = log.split('\n').find((l) => l.includes(digest));
  assert.ok(line, `${digest} is not in the log:\n${log}`);
  const cells = line.split('|').map((c) => c.trim());
  return { mark: cells[8]!, why: cells[9]! };
}

/** Moves an artifact's (and its tags') push and pull times into the past, directly in Berth's database. */
export async function ageArtifact(
  databaseUrl: string,
  digest: string,
  times: { pushedDaysAgo?: number; pulledDaysAgo?: number | null },
): Promise<void> {
  const handle = connect({ url: databaseUrl, poolMax: 1, acquireTimeoutMs: 5000 });
  try {
    const at = (days: number) => new Date(Date.now() - days * 86_400_000).toISOString();
    const ids = (
      await handle.db.selectFrom('artifact').select('id').where('digest', '=', digest).execute()
    ).map((r) => r.id);
    assert.ok(ids.length > 0, `no artifact ${digest}`);
    const set: { push_time?: string; pull_time?: string | null } = {};
    if (times.pushedDaysAgo !== undefined) set.push_time = at(times.pushedDaysAgo);
    if (times.pulledDaysAgo !== undefined)
      set.pull_time = times.pulledDaysAgo === null ? null : at(times.pulledDaysAgo);
    await handle.db.updateTable('artifact').set(set).where('id', 'in', ids).execute();
    await handle.db.updateTable('tag').set(set).where('artifact_id', 'in', ids).execute();
  } finally {
    await handle.close();
  }
}
