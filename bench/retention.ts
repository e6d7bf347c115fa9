/**
 * Tag retention dry run over one project of 10 000 artifacts (issue 14): seeds them by manifest PUTs (one
 * shared config and layer, every tenth artifact tagged), then times POST /retentions/{id}/executions with
 * dry_run until the execution has ended. Berth only (distribution has no retention).
 */
import { performance } from 'node:perf_hooks';
import { Agent } from 'undici';
import { call, seedArtifacts } from './api.js';

export interface RetentionBenchResult {
  artifacts: number;
  seedSeconds: number;
  /** From the trigger to the execution's end, as a client polling every 20 ms sees it. */
  dryRunSeconds: number;
  /** What the dry run decided. */
  total: number;
  retained: number;
}

export async function retentionBench(
  url: string,
  opts: { artifacts: number },
): Promise<RetentionBenchResult> {
  const d = new Agent({ connections: 16 });
  const api = `${url}/api/v2.0`;
  const repo = 'bench-retention/app';
  try {
    await call(
      d,
      `${api}/projects`,
      'POST',
      JSON.stringify({ project_name: 'bench-retention' }),
      'application/json',
      [201, 409],
    );
    const project = JSON.parse((await call(d, `${api}/projects/bench-retention`, 'GET')).text) as {
      project_id: number;
    };
    const seedSeconds = await seedArtifacts(d, url, repo, opts.artifacts, (i: number) =>
      i % 10 === 0 ? `v1.${i}.0` : undefined,
    );
    const selector = (pattern: string, untagged: boolean) => [
      { kind: 'doublestar', decoration: 'matches', pattern, extras: JSON.stringify({ untagged }) },
    ];
    const repos = { repository: [{ kind: 'doublestar', decoration: 'repoMatches', pattern: '**' }] };
    const policy = {
      algorithm: 'or',
      rules: [
        {
          action: 'retain',
          template: 'latestPushedK',
          params: { latestPushedK: 10 },
          tag_selectors: selector('**', true),
          scope_selectors: repos,
        },
        {
          action: 'retain',
          template: 'always',
          params: {},
          tag_selectors: selector('v1.1*', false),
          scope_selectors: repos,
        },
      ],
      trigger: { kind: 'Schedule', settings: { cron: '' } },
      scope: { level: 'project', ref: project.project_id },
    };
    const created = await call(
      d,
      `${api}/retentions`,
      'POST',
      JSON.stringify(policy),
      'application/json',
      [201],
    );
    const id = String(created.headers.location).split('/').pop()!;
    const t0 = performance.now();
    const started = await call(
      d,
      `${api}/retentions/${id}/executions`,
      'POST',
      JSON.stringify({ dry_run: true }),
      'application/json',
      [201],
    );
    const eid = Number(String(started.headers.location).split('/').pop());
    for (;;) {
      const list = JSON.parse((await call(d, `${api}/retentions/${id}/executions`, 'GET')).text) as {
        id: number;
        status: string;
      }[];
      const e = list.find((x) => x.id === eid);
      if (e && e.status !== 'Running') {
        if (e.status !== 'Success') throw new Error(`retention dry run ended ${e.status}`);
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const dryRunSeconds = (performance.now() - t0) / 1000;
    const tasks = JSON.parse(
      (await call(d, `${api}/retentions/${id}/executions/${eid}/tasks`, 'GET')).text,
    ) as {
      total: number;
      retained: number;
    }[];
    return {
      artifacts: opts.artifacts,
      seedSeconds,
      dryRunSeconds,
      total: tasks.reduce((n, t) => n + t.total, 0),
      retained: tasks.reduce((n, t) => n + t.retained, 0),
    };
  } finally {
    await d.close();
  }
}
