import type { Repos } from '../../../db/store.js';
import type { MetaStore } from '../../../db/store.js';
import type { ProjectRow } from '../../../db/tables.js';
import type { Clock } from '../../../lib/clock.js';
import { AppError } from '../../../lib/errors.js';
import type { ListQuery, Page } from '../../../lib/query.js';
import type { RequestContext } from '../../context.js';
import {
  parseImmutableRule,
  ruleFromRow,
  ruleKey,
  type ImmutableRule,
  type ImmutableRuleInput,
} from './immutable-rule.js';
import { ImmutableTagMatcher, type RefusedChange } from './immutable-tag-matcher.js';

/**
 * What other services ask of tag immutability: the compiled rules of a project, and which of some tags
 * they protect. Everything that moves or removes a tag (push, tag and artifact delete through the API or
 * /v2, replication into the project, copy, retention) asks before it changes anything.
 */
export interface TagProtection {
  /** The project's enabled rules, compiled (read once per operation; `db` inside a transaction). */
  matcher(projectId: number, db?: Repos): Promise<ImmutableTagMatcher>;
  /** The protected ones among `tags` of `repository` (full name `<project>/<rest>`). */
  protectedTags(projectId: number, repository: string, tags: Iterable<string>): Promise<string[]>;
  /** PRECONDITION (Harbor's 412 and words) when one of `tags` of `repository` is protected. */
  assertUnprotected(
    change: RefusedChange,
    projectId: number,
    repository: string,
    tags: Iterable<string>,
  ): Promise<void>;
}

/** Harbor's tag immutability rules (swagger tag `immutable`), and the protection they give. */
export class ImmutabilityService implements TagProtection {
  constructor(private readonly deps: { store: Pick<MetaStore, 'immutableRules'>; clock: Clock }) {}

  async list(_ctx: RequestContext, project: ProjectRow, query: ListQuery): Promise<Page<ImmutableRule>> {
    const page = await this.deps.store.immutableRules.list(project.id, query);
    return { total: page.total, items: page.items.map(ruleFromRow) };
  }

  /** The rule, when it is one of the project's; NOT_FOUND otherwise (as Harbor). */
  async find(project: ProjectRow, id: number): Promise<ImmutableRule> {
    const row = await this.deps.store.immutableRules.byId(id);
    if (!row || row.project_id !== project.id)
      throw new AppError('NOT_FOUND', `immutable rule ${id} not found in project ${project.name}`);
    return ruleFromRow(row);
  }

  async create(_ctx: RequestContext, project: ProjectRow, input: ImmutableRuleInput): Promise<number> {
    const rule = parseImmutableRule(input, project.id);
    await this.refuseDuplicate(rule);
    return this.deps.store.immutableRules.create(project.id, values(rule), this.now());
  }

  /** Replaces the rule's selectors, priority and disabled flag (Harbor's UI sends the whole rule). */
  async update(
    _ctx: RequestContext,
    project: ProjectRow,
    id: number,
    input: ImmutableRuleInput,
  ): Promise<void> {
    if (input.id !== undefined && input.id !== 0 && input.id !== id)
      throw new AppError('BAD_REQUEST', `id ${input.id} in the body does not match immutable_rule_id ${id}`);
    await this.find(project, id);
    const rule = parseImmutableRule(input, project.id, id);
    await this.refuseDuplicate(rule);
    if (!(await this.deps.store.immutableRules.update(id, values(rule), this.now())))
      throw new AppError('NOT_FOUND', `immutable rule ${id} not found in project ${project.name}`);
  }

  async delete(_ctx: RequestContext, project: ProjectRow, id: number): Promise<void> {
    await this.find(project, id);
    if (!(await this.deps.store.immutableRules.delete(id)))
      throw new AppError('NOT_FOUND', `immutable rule ${id} not found in project ${project.name}`);
  }

  async matcher(
    projectId: number,
    db: Pick<Repos, 'immutableRules'> = this.deps.store,
  ): Promise<ImmutableTagMatcher> {
    return new ImmutableTagMatcher((await db.immutableRules.ofProject(projectId)).map(ruleFromRow));
  }

  async protectedTags(projectId: number, repository: string, tags: Iterable<string>): Promise<string[]> {
    const list = [...tags];
    if (list.length === 0) return [];
    return (await this.matcher(projectId)).protectedTags(repository, list);
  }

  async assertUnprotected(
    change: RefusedChange,
    projectId: number,
    repository: string,
    tags: Iterable<string>,
  ): Promise<void> {
    const list = [...tags];
    if (list.length === 0) return;
    (await this.matcher(projectId)).assertUnprotected(change, repository, list);
  }

  private async refuseDuplicate(rule: ImmutableRule): Promise<void> {
    const key = ruleKey(rule);
    const rows = await this.deps.store.immutableRules.ofProject(rule.projectId);
    if (rows.some((r) => r.id !== rule.id && ruleKey(ruleFromRow(r)) === key))
      throw new AppError('CONFLICT', 'immutable rule already exists');
  }

  private now(): string {
    return this.deps.clock.now().toISOString();
  }
}

function values(rule: ImmutableRule) {
  return {
    priority: rule.priority,
    disabled: rule.disabled,
    action: rule.action,
    template: rule.template,
    scopeSelectors: JSON.stringify(rule.scopeSelectors),
    tagSelectors: JSON.stringify(rule.tagSelectors),
  };
}
