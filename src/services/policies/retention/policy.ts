import { z } from 'zod';
import { parseCron } from '../../../jobs/cron.js';
import { AppError } from '../../../lib/errors.js';
import { patternProblem } from '../doublestar.js';
import { ruleTemplates } from './rules/index.js';

const selector = z.object({
  kind: z.string().optional(),
  decoration: z.string().optional(),
  pattern: z.string().optional(),
  extras: z.string().optional(),
});

/** Harbor's RetentionPolicy as clients send it; the rules are checked by `checkPolicy`, naming the field. */
export const retentionPolicyInput = z.object({
  id: z.number().optional(),
  algorithm: z.string().optional(),
  rules: z
    .array(
      z.object({
        id: z.number().optional(),
        priority: z.number().optional(),
        disabled: z.boolean().optional(),
        action: z.string().optional(),
        template: z.string().optional(),
        params: z.record(z.string(), z.unknown()).nullable().optional(),
        tag_selectors: z.array(selector).nullable().optional(),
        scope_selectors: z.record(z.string(), z.array(selector).nullable()).nullable().optional(),
      }),
    )
    .nullable()
    .optional(),
  trigger: z
    .object({
      kind: z.string().optional(),
      settings: z.record(z.string(), z.unknown()).nullable().optional(),
      references: z.unknown().optional(),
    })
    .nullable()
    .optional(),
  scope: z.object({ level: z.string().optional(), ref: z.number().optional() }).nullable().optional(),
});
export type RetentionPolicyInput = z.infer<typeof retentionPolicyInput>;

export interface Selector {
  kind: 'doublestar';
  decoration: string;
  pattern: string;
  extras?: string;
}

export interface Rule {
  id: number;
  priority: number;
  disabled: boolean;
  action: 'retain';
  template: string;
  params: Record<string, number>;
  tag_selectors: Selector[];
  scope_selectors: { repository?: Selector[] };
}

export interface Trigger {
  kind: string;
  settings: { cron: string };
  references: Record<string, unknown>;
}

/** A policy as stored and as Harbor's API shows it. */
export interface RetentionPolicy {
  id: number;
  algorithm: 'or';
  rules: Rule[];
  trigger: Trigger;
  scope: { level: 'project'; ref: number };
}

const bad = (field: string, message: string) => new AppError('BAD_REQUEST', `${field}: ${message}`);

/**
 * Checks a policy the way Harbor does (algorithm `or`, project scope, at most 15 rules, registered
 * templates with their parameter, doublestar selectors, a 6-field cron) and returns it normalized. Every
 * refusal is BAD_REQUEST naming the field; two identical rules are a CONFLICT, as Harbor answers.
 */
export function checkPolicy(input: RetentionPolicyInput): Omit<RetentionPolicy, 'id'> {
  if ((input.algorithm ?? '') !== 'or')
    throw bad('algorithm', `"${input.algorithm ?? ''}" is not supported; use "or"`);
  if (!input.scope) throw bad('scope', 'can not be empty');
  if (input.scope.level !== 'project')
    throw bad('scope.level', `scope ${input.scope.level ?? ''} is not supported; use "project"`);
  const ref = input.scope.ref;
  if (!Number.isInteger(ref) || ref! <= 0) throw bad('scope.ref', `invalid Project id ${ref ?? ''}`);
  const rawRules = input.rules ?? [];
  if (rawRules.length > 15) throw bad('rules', 'only 15 rules are allowed at most');
  const rules = rawRules.map((r, i) => checkRule(r, i));
  const seen = new Map<string, number>();
  rules.forEach((r, i) => {
    const key = JSON.stringify({ ...r, id: 0 });
    const first = seen.get(key);
    if (first !== undefined) throw new AppError('CONFLICT', `rule ${i} is conflict with rule ${first}`);
    seen.set(key, i);
  });
  if (!input.trigger) throw bad('trigger', 'can not be empty');
  const kind = input.trigger.kind ?? '';
  if (kind !== 'Schedule') throw bad('trigger.kind', `"${kind}" is not supported; use "Schedule"`);
  const cron = input.trigger.settings?.cron ?? '';
  if (typeof cron !== 'string') throw bad('trigger.settings.cron', 'must be a string');
  if (cron !== '') {
    try {
      parseCron(cron);
    } catch (err) {
      throw bad(
        'trigger.settings.cron',
        `invalid cron string for scheduled tag retention: ${(err as Error).message}`,
      );
    }
  }
  return {
    algorithm: 'or',
    rules,
    trigger: { kind, settings: { cron }, references: {} },
    scope: { level: 'project', ref: ref! },
  };
}

type RuleInput = NonNullable<RetentionPolicyInput['rules']>[number];

function checkRule(r: RuleInput, i: number): Rule {
  const at = `rules[${i}]`;
  if ((r.action ?? '') !== 'retain')
    throw bad(`${at}.action`, `"${r.action ?? ''}" is not supported; use "retain"`);
  const template = ruleTemplates.get(r.template ?? '');
  if (!template) throw bad(`${at}.template`, `rule template "${r.template ?? ''}" is not registered`);
  const params: Record<string, number> = {};
  if (template.unit) {
    const raw = r.params?.[template.id];
    if (raw === undefined || raw === null)
      throw bad(
        `${at}.params.${template.id}`,
        `missing required parameter ${template.id} for rule ${template.id}`,
      );
    const n = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : raw;
    if (typeof n !== 'number' || !Number.isInteger(n))
      throw bad(`${at}.params.${template.id}`, `${template.id} must be an integer`);
    if (n < 0) throw bad(`${at}.params.${template.id}`, `${template.id} is less than zero`);
    if (n > template.max!) throw bad(`${at}.params.${template.id}`, `${template.id} is too large`);
    params[template.id] = n;
  }
  const tagSelectors = (r.tag_selectors ?? []).map((s, j) =>
    checkSelector(s, `${at}.tag_selectors[${j}]`, ['matches', 'excludes']),
  );
  if (tagSelectors.length === 0) throw bad(`${at}.tag_selectors`, 'can not be empty');
  const scope = r.scope_selectors ?? {};
  for (const key of Object.keys(scope))
    if (key !== 'repository') throw bad(`${at}.scope_selectors.${key}`, 'only "repository" is supported');
  const repository = (scope.repository ?? []).map((s, j) =>
    checkSelector(s, `${at}.scope_selectors.repository[${j}]`, ['repoMatches', 'repoExcludes']),
  );
  return {
    id: i + 1,
    priority: r.priority ?? 0,
    disabled: r.disabled ?? false,
    action: 'retain',
    template: template.id,
    params,
    tag_selectors: tagSelectors,
    scope_selectors: { repository },
  };
}

function checkSelector(s: z.infer<typeof selector>, at: string, decorations: string[]): Selector {
  if ((s.kind ?? '') !== 'doublestar')
    throw bad(`${at}.kind`, `"${s.kind ?? ''}" is not supported; use "doublestar"`);
  if (!decorations.includes(s.decoration ?? ''))
    throw bad(
      `${at}.decoration`,
      `"${s.decoration ?? ''}" is not supported; use ${decorations.join(' or ')}`,
    );
  const pattern = s.pattern ?? '';
  const problem = patternProblem(pattern);
  if (problem) throw bad(`${at}.pattern`, `malformed pattern "${pattern}": it ${problem}`);
  if (s.extras) {
    try {
      const extras = JSON.parse(s.extras) as { untagged?: unknown };
      if (extras.untagged !== undefined && typeof extras.untagged !== 'boolean') throw new Error();
    } catch {
      throw bad(`${at}.extras`, 'must be JSON like {"untagged":true}');
    }
  }
  return {
    kind: 'doublestar',
    decoration: s.decoration!,
    pattern,
    ...(s.extras ? { extras: s.extras } : {}),
  };
}

/** Rule words for logs and the UI: "retain the most recently pushed 10 artifacts". */
export function describeRule(rule: Rule): string {
  const t = ruleTemplates.get(rule.template);
  const text = (t?.displayText ?? rule.template).replace('#', String(rule.params[rule.template] ?? ''));
  return `rule ${rule.id}: retain ${text}`;
}
