import { api, apiCreate } from './client';
import { listSource } from './hooks';

/** One doublestar selector of a rule. */
export interface ImmutableSelector {
  kind: string;
  decoration: string;
  pattern: string;
}

/** Harbor's ImmutableRule: repositories (scope_selectors.repository) and tags it protects. */
export interface ImmutableRule {
  id: number;
  priority: number;
  disabled: boolean;
  action: string;
  template: string;
  tag_selectors: ImmutableSelector[];
  scope_selectors: { repository?: ImmutableSelector[] };
}

export const immutableRuleKeys = {
  all: ['immutable-rules'] as const,
  list: (projectId: number) => [...immutableRuleKeys.all, projectId] as const,
};

const rulesPath = (projectId: number) => `/projects/${projectId}/immutabletagrules`;

export function immutableRuleList(projectId: number) {
  return listSource<ImmutableRule>(immutableRuleKeys.list(projectId), rulesPath(projectId));
}

/** What the dialog edits: matching or excluding, and a pattern, for repositories and for tags. */
export interface ImmutableRuleFields {
  repoDecoration: 'repoMatches' | 'repoExcludes';
  repoPattern: string;
  tagDecoration: 'matches' | 'excludes';
  tagPattern: string;
  disabled: boolean;
  priority: number;
}

/** Harbor's portal turns a comma-separated list into one doublestar alternative: `a,b` → `{a,b}`. */
export function patternOf(text: string): string {
  const parts = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  return parts.length > 1 ? `{${parts.join(',')}}` : (parts[0] ?? '');
}

/** The dialog's text for a stored pattern (the inverse of patternOf). */
export function textOf(pattern: string): string {
  return /^\{[^{}]*\}$/.test(pattern) ? pattern.slice(1, -1) : pattern;
}

function body(fields: ImmutableRuleFields, id?: number) {
  return {
    ...(id === undefined ? {} : { id }),
    disabled: fields.disabled,
    priority: fields.priority,
    action: 'immutable',
    template: 'immutable_template',
    tag_selectors: [
      { kind: 'doublestar', decoration: fields.tagDecoration, pattern: patternOf(fields.tagPattern) },
    ],
    scope_selectors: {
      repository: [
        { kind: 'doublestar', decoration: fields.repoDecoration, pattern: patternOf(fields.repoPattern) },
      ],
    },
  };
}

/** Creates the rule, or replaces it when `id` is given (Harbor's PUT takes the whole rule). */
export function saveImmutableRule(
  projectId: number,
  fields: ImmutableRuleFields,
  id?: number,
): Promise<unknown> {
  return id === undefined
    ? apiCreate(rulesPath(projectId), body(fields))
    : api(`${rulesPath(projectId)}/${id}`, { method: 'PUT', body: body(fields, id) });
}

export function fieldsOf(rule: ImmutableRule): ImmutableRuleFields {
  const repo = rule.scope_selectors.repository?.[0];
  const tag = rule.tag_selectors[0];
  return {
    repoDecoration: repo?.decoration === 'repoExcludes' ? 'repoExcludes' : 'repoMatches',
    repoPattern: textOf(repo?.pattern ?? '**'),
    tagDecoration: tag?.decoration === 'excludes' ? 'excludes' : 'matches',
    tagPattern: textOf(tag?.pattern ?? '**'),
    disabled: rule.disabled,
    priority: rule.priority,
  };
}

export function deleteImmutableRule(projectId: number, id: number): Promise<unknown> {
  return api(`${rulesPath(projectId)}/${id}`, { method: 'DELETE' });
}
