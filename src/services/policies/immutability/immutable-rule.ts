import { z } from 'zod';
import type { ImmutableTagRuleRow } from '../../../db/tables.js';
import { AppError } from '../../../lib/errors.js';
import { doublestar, patternProblem } from '../doublestar.js';

/** Harbor's ImmutableSelector: only `doublestar` selectors exist for immutability. */
export const immutableSelector = z.object({
  kind: z.string().max(64).optional(),
  decoration: z.string().max(64).optional(),
  pattern: z.string().max(4096).optional(),
  extras: z.string().max(4096).optional(),
});
export type ImmutableSelector = z.infer<typeof immutableSelector>;

/** Harbor's ImmutableRule as the API carries it (`project_id` is not in the swagger, but Harbor reads it). */
export const immutableRuleInput = z.object({
  id: z.number().int().optional(),
  project_id: z.number().int().optional(),
  priority: z.number().int().optional(),
  disabled: z.boolean().optional(),
  action: z.string().max(64).optional(),
  template: z.string().max(64).optional(),
  params: z.record(z.string(), z.unknown()).optional(),
  tag_selectors: z.array(immutableSelector).max(16).optional(),
  scope_selectors: z.record(z.string(), z.array(immutableSelector).max(16)).optional(),
});
export type ImmutableRuleInput = z.infer<typeof immutableRuleInput>;

/** A rule after validation: what is stored and what the API shows. */
export interface ImmutableRule {
  id: number;
  projectId: number;
  priority: number;
  disabled: boolean;
  action: 'immutable';
  template: 'immutable_template';
  tagSelectors: Selector[];
  scopeSelectors: { repository: Selector[] };
}

export interface Selector {
  kind: 'doublestar';
  decoration: string;
  pattern: string;
  extras?: string;
}

const tagDecorations = ['matches', 'excludes'];
const repoDecorations = ['repoMatches', 'repoExcludes'];

const bad = (message: string) => new AppError('BAD_REQUEST', message);

function selectors(list: ImmutableSelector[] | undefined, field: string, decorations: string[]): Selector[] {
  if (!list || list.length === 0) throw bad(`${field} is required: give at least one selector`);
  return list.map((s, i) => {
    const at = `${field}[${i}]`;
    const kind = s.kind ?? '';
    if (kind !== 'doublestar')
      throw bad(
        `${at}.kind: unknown selector kind "${kind.slice(0, 64)}"; immutability rules take "doublestar"`,
      );
    const decoration = s.decoration ?? '';
    if (!decorations.includes(decoration))
      throw bad(
        `${at}.decoration: unknown decoration "${decoration.slice(0, 64)}"; use ${decorations.map((d) => `"${d}"`).join(' or ')}`,
      );
    const pattern = s.pattern ?? '';
    if (pattern.trim() === '') throw bad(`${at}.pattern is required ("**" matches everything)`);
    const problem = patternProblem(pattern);
    if (problem) throw bad(`${at}.pattern "${pattern.slice(0, 200)}" ${problem}`);
    return { kind, decoration, pattern, ...(s.extras ? { extras: s.extras } : {}) };
  });
}

/** Validates an API body into a rule of `projectId`; BAD_REQUEST naming the field otherwise. */
export function parseImmutableRule(input: ImmutableRuleInput, projectId: number, id = 0): ImmutableRule {
  if (input.project_id !== undefined && input.project_id !== 0 && input.project_id !== projectId)
    throw bad(`project_id ${input.project_id} does not match the project of the path (${projectId})`);
  if (input.action !== undefined && input.action !== '' && input.action !== 'immutable')
    throw bad(`action: unknown action "${input.action}"; immutability rules take "immutable"`);
  if (input.template !== undefined && input.template !== '' && input.template !== 'immutable_template')
    throw bad(`template: unknown template "${input.template}"; immutability rules take "immutable_template"`);
  const scopes = input.scope_selectors ?? {};
  const unknownScope = Object.keys(scopes).find((k) => k !== 'repository');
  if (unknownScope !== undefined)
    throw bad(`scope_selectors: unknown scope "${unknownScope.slice(0, 64)}"; use "repository"`);
  return {
    id,
    projectId,
    priority: input.priority ?? 0,
    disabled: input.disabled ?? false,
    action: 'immutable',
    template: 'immutable_template',
    tagSelectors: selectors(input.tag_selectors, 'tag_selectors', tagDecorations),
    scopeSelectors: {
      repository: selectors(scopes.repository, 'scope_selectors.repository', repoDecorations),
    },
  };
}

export function ruleFromRow(row: ImmutableTagRuleRow): ImmutableRule {
  return {
    id: row.id,
    projectId: row.project_id,
    priority: row.priority,
    disabled: row.disabled === 1,
    action: 'immutable',
    template: 'immutable_template',
    tagSelectors: JSON.parse(row.tag_selectors) as Selector[],
    scopeSelectors: JSON.parse(row.scope_selectors) as { repository: Selector[] },
  };
}

/** What makes two rules the same rule (Harbor refuses a duplicate with 409). */
export function ruleKey(rule: ImmutableRule): string {
  const sel = (s: Selector) => [s.decoration, s.pattern];
  return JSON.stringify([rule.scopeSelectors.repository.map(sel), rule.tagSelectors.map(sel)]);
}

/**
 * The evaluator of the `immutable_template` rule: whether it protects `tag` in `repository` (the name
 * without its project, as Harbor matches it). Every selector must hold; a disabled rule protects nothing.
 */
export function compileImmutableRule(rule: ImmutableRule): (repository: string, tag: string) => boolean {
  if (rule.disabled) return () => false;
  const test = (s: Selector) => {
    const match = doublestar(s.pattern);
    const excludes = s.decoration === 'excludes' || s.decoration === 'repoExcludes';
    return (value: string) => match(value) !== excludes;
  };
  const repo = rule.scopeSelectors.repository.map(test);
  const tags = rule.tagSelectors.map(test);
  return (repository, tag) => repo.every((t) => t(repository)) && tags.every((t) => t(tag));
}
