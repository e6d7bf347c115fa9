import type { MetaStore } from '../../db/store.js';
import type { LabelRow } from '../../db/tables.js';
import type { Clock } from '../../lib/clock.js';
import { AppError } from '../../lib/errors.js';
import type { ListQuery, Page } from '../../lib/query.js';
import type { RequestContext } from '../context.js';

export interface LabelInput {
  name: string;
  description?: string | undefined;
  color?: string | undefined;
  scope: 'g' | 'p';
  projectId?: number | undefined;
}

const maxName = 128;

/** Labels: global (system) or one project's, attached to artifacts. */
export class LabelService {
  constructor(private readonly deps: { store: Pick<MetaStore, 'labels' | 'projectCatalog'>; clock: Clock }) {}

  list(_ctx: RequestContext, query: ListQuery): Promise<Page<LabelRow>> {
    return this.deps.store.labels.list(query);
  }

  async find(id: number): Promise<LabelRow> {
    const row = await this.deps.store.labels.byId(id);
    if (!row) throw new AppError('NOT_FOUND', `label ${id} not found`);
    return row;
  }

  async create(_ctx: RequestContext, input: LabelInput): Promise<LabelRow> {
    const name = checkName(input.name);
    const projectId = input.scope === 'p' ? input.projectId : 0;
    if (input.scope === 'p' && !projectId)
      throw new AppError('BAD_REQUEST', 'a project label needs project_id');
    if (input.scope === 'p' && !(await this.deps.store.projectCatalog.byId(projectId!)))
      throw new AppError('NOT_FOUND', `project ${projectId} not found`);
    const row = await this.deps.store.labels.create(
      {
        name,
        description: input.description ?? '',
        color: input.color ?? '',
        scope: input.scope,
        projectId: projectId ?? 0,
      },
      this.deps.clock.now().toISOString(),
    );
    if (!row) throw new AppError('CONFLICT', `label ${name} already exists`);
    return row;
  }

  async update(
    _ctx: RequestContext,
    label: LabelRow,
    input: { name?: string | undefined; description?: string | undefined; color?: string | undefined },
  ): Promise<void> {
    const name = input.name === undefined ? label.name : checkName(input.name);
    if (
      await this.deps.store.labels.nameTaken(
        { name, scope: label.scope, projectId: label.project_id },
        label.id,
      )
    )
      throw new AppError('CONFLICT', `label ${name} already exists`);
    await this.deps.store.labels.update(
      label.id,
      { name, description: input.description ?? label.description, color: input.color ?? label.color },
      this.deps.clock.now().toISOString(),
    );
  }

  async delete(_ctx: RequestContext, label: LabelRow): Promise<void> {
    await this.deps.store.labels.delete(label.id);
  }
}

function checkName(raw: string): string {
  const name = raw.trim();
  if (name === '' || name.length > maxName)
    throw new AppError('BAD_REQUEST', `label name must be 1 to ${maxName} characters`);
  return name;
}
