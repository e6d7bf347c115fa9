import { z } from 'zod';
import type { Rule } from '../../services/policies/retention/policy.js';
import type { RepositoryTask } from '../../services/policies/retention/repository-task.js';
import { defineJob, type JobContext } from '../kind.js';

const payload = z
  .object({
    executionId: z.number().int(),
    policyId: z.number().int(),
    projectId: z.number().int(),
    repositoryId: z.number().int(),
    repository: z.string(),
    dryRun: z.boolean(),
    operator: z.string(),
    // The rules as the policy held them when the execution was planned (checked when saved).
    rules: z.array(z.custom<Rule>((v) => typeof v === 'object' && v !== null)),
  })
  .strict() satisfies z.ZodType<RepositoryTask>;

/**
 * `retention.process`: one task, one repository: decide every artifact and remove those no rule retains.
 * A rerun (after a crash) decides again over what is left, which removes nothing a rule keeps: the
 * artifacts a ranked rule keeps are never among those removed.
 */
export function retentionProcessJob(runner: {
  process(task: RepositoryTask, ctx: JobContext): Promise<void>;
}) {
  return defineJob({
    kind: 'retention.process',
    payload,
    retry: { maxAttempts: 3, baseDelayMs: 2_000, maxDelayMs: 60_000 },
    run: (p, ctx) => runner.process(p, ctx),
  });
}
