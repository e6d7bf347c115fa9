import type { CandidateRow } from '../../../db/repos/retention.js';
import type { MetaStore, Repos } from '../../../db/store.js';
import type { JobContext } from '../../../jobs/kind.js';
import type { Clock } from '../../../lib/clock.js';
import type { DomainEvents } from '../../events.js';
import type { TagProtection } from '../immutability/immutability-service.js';
import { describeRule, type Rule } from './policy.js';
import { ruleTemplates } from './rules/index.js';
import type { Candidate, Evaluator } from './rules/rule.js';
import { tagsSelected } from './selectors.js';

/** What retention asks of tag immutability: the project's compiled rules, read once per task. */
export type ImmutableTags = Pick<TagProtection, 'matcher'>;

/** One task: apply the rules that select this repository. The payload of a `retention.process` job. */
export interface RepositoryTask {
  executionId: number;
  policyId: number;
  projectId: number;
  repositoryId: number;
  repository: string;
  dryRun: boolean;
  operator: string;
  rules: Rule[];
}

export interface RepositoryTaskDeps {
  store: Pick<MetaStore, 'retention' | 'transaction'>;
  clock: Clock;
  /**
   * Publishes the task's outcome in the transaction that records its counts (webhooks' TAG_RETENTION),
   * then tells its after-commit subscribers.
   */
  finished(tx: Repos, e: DomainEvents['RetentionTaskFinished']): Promise<void>;
  afterFinished(e: DomainEvents['RetentionTaskFinished']): void;
  immutable: ImmutableTags;
  /** The normal artifact delete path (immutability, quota release, events, replication of deletes). */
  deleteArtifact(repository: string, digest: string): Promise<void>;
  /** Records a removal in the audit log. */
  audited(entry: { projectId: number; resource: string; operator: string; success: boolean }): void;
  pageSize?: number;
}

type Mark = 'RETAIN' | 'DEL' | 'IMMUTABLE' | 'ERR';

interface Compiled {
  rule: Rule;
  evaluator: Evaluator;
  /** Ranked rules: the top candidates seen so far (pass 1), then the set that is retained. */
  top: { id: number; key: number }[];
  kept: Set<number>;
}

const header = '| Digest | Tag | Kind | Labels | PushedTime | PulledTime | CreatedTime | Retention | Why |';

/**
 * Runs one repository's task. Pass 1 reads the candidates a page at a time and keeps, for each ranked rule
 * (latest K), only its top K; pass 2 reads them again and decides each one: retained by the first rule
 * that keeps it, otherwise removed (unless an immutability rule protects it). Memory holds a page and the
 * ranked rules' K ids, whatever the repository's size. Artifacts pushed after pass 1 started are left alone.
 */
export async function runRepositoryTask(
  d: RepositoryTaskDeps,
  task: RepositoryTask,
  ctx: JobContext,
): Promise<{ total: number; retained: number; removed: number } | undefined> {
  const pageSize = d.pageSize ?? 1000;
  const now = d.clock.now();
  await ctx.log(
    `Run retention process. Repository: ${task.repository}; Rule Algorithm: or; Dry Run: ${task.dryRun}`,
  );
  const rules: Compiled[] = task.rules
    .filter((r) => !r.disabled)
    .map((rule) => ({
      rule,
      evaluator: ruleTemplates.get(rule.template)!.create(rule.params[rule.template] ?? 0, now),
      top: [],
      kept: new Set<number>(),
    }));
  for (const r of rules) await ctx.log(`${describeRule(r.rule)}; tags ${selectorWords(r.rule)}`);
  const immutable = await d.immutable.matcher(task.projectId);

  let total = 0;
  let maxId = 0;
  for (let after = 0; ;) {
    if (ctx.signal.aborted) return stopped(ctx);
    const page = await d.store.retention.candidatesPage(task.repositoryId, after, pageSize);
    for (const row of page) {
      total++;
      maxId = row.id;
      const c = candidateOf(row);
      for (const r of rules) {
        if (r.evaluator.kind !== 'rank' || !tagsSelected(r.rule.tag_selectors, c.tags)) continue;
        r.top.push({ id: c.id, key: r.evaluator.rank(c) });
        if (r.top.length > Math.max(2 * r.evaluator.limit, 1000)) trim(r.top, r.evaluator.limit);
      }
    }
    if (page.length < pageSize) break;
    after = page.at(-1)!.id;
  }
  for (const r of rules) {
    if (r.evaluator.kind !== 'rank') continue;
    trim(r.top, r.evaluator.limit);
    r.kept = new Set(r.top.map((t) => t.id));
    r.top = [];
  }
  await ctx.log(`Load ${total} candidates from repository ${task.repository}`);
  await ctx.log(header);

  let retained = 0;
  let removed = 0;
  const deleted: { digest: string; tags: string[] }[] = [];
  for (let after = 0; maxId > 0;) {
    if (ctx.signal.aborted) return stopped(ctx);
    const page = await d.store.retention.candidatesPage(task.repositoryId, after, pageSize);
    const lines: string[] = [];
    for (const row of page) {
      if (row.id > maxId) break;
      const c = candidateOf(row);
      const by = rules.find(
        (r) =>
          tagsSelected(r.rule.tag_selectors, c.tags) &&
          (r.evaluator.kind === 'rank' ? r.kept.has(c.id) : r.evaluator.keeps(c)),
      );
      let mark: Mark;
      let why: string;
      if (by) {
        mark = 'RETAIN';
        why = describeRule(by.rule);
      } else {
        const held = immutable.protectedTags(task.repository, c.tags);
        if (held.length > 0) {
          mark = 'IMMUTABLE';
          why = `no rule retains it, but it is not removed: tag(s) ${held.join(', ')} are immutable`;
        } else if (task.dryRun) {
          mark = 'DEL';
          why = 'no rule retains it (dry run: it would be removed)';
        } else {
          try {
            await d.deleteArtifact(task.repository, c.digest);
            mark = 'DEL';
            why = 'no rule retains it; removed';
          } catch (err) {
            mark = 'ERR';
            why = `no rule retains it, but removing it failed: ${(err as Error).message}`;
          }
          d.audited({
            projectId: task.projectId,
            resource: `${task.repository}@${c.digest}`,
            operator: task.operator,
            success: mark === 'DEL',
          });
        }
      }
      if (mark === 'DEL') {
        removed++;
        deleted.push({ digest: c.digest, tags: c.tags });
      } else retained++;
      lines.push(rowText(row, mark, why));
    }
    if (lines.length > 0) await ctx.log(lines.join('\n'));
    if (page.length < pageSize || page.at(-1)!.id >= maxId) break;
    after = page.at(-1)!.id;
  }
  const outcome: DomainEvents['RetentionTaskFinished'] = {
    executionId: task.executionId,
    policyId: task.policyId,
    projectId: task.projectId,
    repository: task.repository,
    dryRun: task.dryRun,
    operator: task.operator,
    total,
    retained,
    deleted,
  };
  await d.store.transaction(async (tx) => {
    await tx.retention.recordTask(ctx.jobId, total, retained);
    await d.finished(tx, outcome);
  });
  d.afterFinished(outcome);
  await ctx.log(
    task.dryRun
      ? `Dry run: ${removed} of ${total} artifact(s) would be removed, ${retained} retained`
      : `${removed} of ${total} artifact(s) removed, ${retained} retained`,
  );
  return { total, retained, removed };
}

async function stopped(ctx: JobContext): Promise<undefined> {
  await ctx.log('Retention job is stopped');
  return undefined;
}

/** Keeps the `limit` highest keys (ties: the newer artifact, the higher id). */
function trim(top: { id: number; key: number }[], limit: number): void {
  top.sort((a, b) => b.key - a.key || b.id - a.id);
  top.length = Math.min(top.length, limit);
}

function candidateOf(row: CandidateRow): Candidate {
  return {
    id: row.id,
    digest: row.digest,
    tags: row.tags,
    labels: row.labels,
    pushTime: Date.parse(row.pushTime),
    pullTime: row.pullTime ? Date.parse(row.pullTime) : 0,
  };
}

function selectorWords(rule: Rule): string {
  const tags = rule.tag_selectors
    .map((s) => {
      const untagged = s.extras ? (JSON.parse(s.extras) as { untagged?: boolean }).untagged : undefined;
      return `${s.decoration} "${s.pattern}"${untagged === undefined ? '' : ` (untagged: ${untagged})`}`;
    })
    .join(' and ');
  const repos = (rule.scope_selectors.repository ?? [])
    .map((s) => `${s.decoration} "${s.pattern}"`)
    .join(' and ');
  return `${tags}${repos ? `; repositories ${repos}` : ''}`;
}

const time = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 19) : '');

function rowText(row: CandidateRow, mark: Mark, why: string): string {
  return `| ${row.digest} | ${row.tags.join(',')} | image | ${row.labels.join(',')} | ${time(row.pushTime)} | ${time(row.pullTime)} | ${time(row.creationTime)} | ${mark} | ${why} |`;
}
