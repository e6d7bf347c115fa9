import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { repositoryFields, type RepositoryListRow } from '../../db/repos/repository-catalog.js';
import type { ProjectRow } from '../../db/tables.js';
import { contextOf } from '../context.js';
import { subjectOf } from './access.js';
import type { ApiDeps } from './deps.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { repositoryModel } from './models.js';
import { projectFor } from './project.js';
import { listParams, repositoryNameParam, type ApiRouter } from './router.js';

export const repoParams = z.object({
  project_name: z.string().min(1).max(255),
  repository_name: repositoryNameParam,
});

export function renderRepository(r: RepositoryListRow) {
  return {
    id: r.id,
    project_id: r.project_id,
    name: r.name,
    description: r.description,
    artifact_count: r.artifact_count,
    pull_count: Number(r.pull_count),
    creation_time: r.creation_time,
    update_time: r.update_time,
  };
}

/** The project and repository a request names, after checking `resource:action` in that project. */
export async function repositoryFor(
  deps: ApiDeps,
  request: FastifyRequest,
  params: { project_name: string; repository_name: string },
  resource: string,
  action: string,
): Promise<{ project: ProjectRow; repo: RepositoryListRow }> {
  const project = await projectFor(deps, request, params.project_name, action, resource, true);
  return { project, repo: await deps.repositories.find(project, params.repository_name) };
}

export function repositoryRoutes(api: ApiRouter, deps: ApiDeps): void {
  const tag = 'repository';
  api.add({
    operationId: 'listAllRepositories',
    tag,
    method: 'GET',
    path: '/repositories',
    summary: 'List all authorized repositories',
    query: z.object(listParams),
    status: 200,
    response: z.array(repositoryModel),
    headers: ['X-Total-Count', 'Link'],
    handler: async ({ query }, request, reply) => {
      const list = parseListQuery(query, repositoryFields);
      const page = await deps.repositories.list(contextOf(request), list, { subject: subjectOf(request) });
      setPageHeaders(request, reply, page.total, list);
      return page.items.map(renderRepository);
    },
  });

  api.add({
    operationId: 'listRepositories',
    tag,
    method: 'GET',
    path: '/projects/{project_name}/repositories',
    summary: 'List repositories',
    params: z.object({ project_name: z.string().min(1).max(255) }),
    query: z.object(listParams),
    status: 200,
    response: z.array(repositoryModel),
    headers: ['X-Total-Count', 'Link'],
    handler: async ({ params, query }, request, reply) => {
      const list = parseListQuery(query, repositoryFields);
      const project = await projectFor(deps, request, params.project_name, 'list', 'repository', true);
      // Harbor's `name` filter is the full name; a bare name matches within the project.
      const name = list.keywords.name;
      if (name?.kind === 'exact' && !name.value.includes('/')) name.value = `${project.name}/${name.value}`;
      const page = await deps.repositories.list(contextOf(request), list, { projectId: project.id });
      setPageHeaders(request, reply, page.total, list);
      return page.items.map(renderRepository);
    },
  });

  api.add({
    operationId: 'getRepository',
    tag,
    method: 'GET',
    path: '/projects/{project_name}/repositories/{repository_name}',
    summary: 'Get repository',
    params: repoParams,
    status: 200,
    response: repositoryModel,
    handler: async ({ params }, request) => {
      const { repo } = await repositoryFor(deps, request, params, 'repository', 'read');
      return renderRepository(repo);
    },
  });

  api.add({
    operationId: 'updateRepository',
    tag,
    method: 'PUT',
    path: '/projects/{project_name}/repositories/{repository_name}',
    summary: 'Update repository',
    params: repoParams,
    body: z
      .object({
        description: z.string().max(65_536).optional(),
        id: z.number().int().optional(),
        project_id: z.number().int().optional(),
        name: z.string().optional(),
        artifact_count: z.number().int().optional(),
        pull_count: z.number().int().optional(),
        creation_time: z.string().nullable().optional(),
        update_time: z.string().optional(),
      })
      .strict(),
    status: 200,
    handler: async ({ params, body }, request) => {
      const { repo } = await repositoryFor(deps, request, params, 'repository', 'update');
      await deps.repositories.updateDescription(contextOf(request), repo, body.description ?? '');
      return undefined;
    },
  });

  api.add({
    operationId: 'deleteRepository',
    tag,
    method: 'DELETE',
    path: '/projects/{project_name}/repositories/{repository_name}',
    summary: 'Delete repository',
    params: repoParams,
    status: 200,
    handler: async ({ params }, request) => {
      const { repo } = await repositoryFor(deps, request, params, 'repository', 'delete');
      await deps.repositories.delete(contextOf(request), repo);
      return undefined;
    },
  });
}
