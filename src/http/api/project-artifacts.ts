import { z } from 'zod';
import { artifactFields } from '../../db/repos/artifact-catalog.js';
import { maxProjectNameLength } from '../../services/projects/project-service.js';
import { contextOf } from '../context.js';
import { options, withFlags } from './artifact.js';
import { renderArtifact } from './artifact-render.js';
import type { ApiDeps } from './deps.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { artifactModel } from './models.js';
import { projectFor } from './project.js';
import { requireSignedIn } from './project-access.js';
import { listParams, q, type ApiRouter } from './router.js';

/** Harbor's listArtifactsOfProject (tag `project`): the artifacts of every repository of a project. */
export function projectArtifactRoutes(api: ApiRouter, deps: ApiDeps): void {
  api.add({
    operationId: 'listArtifactsOfProject',
    tag: 'project',
    method: 'GET',
    path: '/projects/{project_name_or_id}/artifacts',
    summary: 'List artifacts',
    params: z.object({ project_name_or_id: z.string().min(1).max(maxProjectNameLength) }),
    query: z.object({
      ...listParams,
      ...withFlags,
      with_inherited_accessory: q.bool.optional(),
      latest_in_repository: q.bool.optional(),
    }),
    status: 200,
    response: z.array(artifactModel),
    headers: ['X-Total-Count', 'Link'],
    handler: async ({ params, query }, request, reply) => {
      // Harbor asks for a signed-in caller first, even on a public project.
      requireSignedIn(request);
      const list = parseListQuery(query, artifactFields);
      const project = await projectFor(deps, request, params.project_name_or_id, 'list', 'artifact');
      const opts = options(query);
      const page = await deps.artifacts.listInProject(contextOf(request), project, list, {
        ...opts,
        latestInRepository: query.latest_in_repository ?? false,
      });
      setPageHeaders(request, reply, page.total, list);
      return page.items.map((v) =>
        renderArtifact(
          v,
          { projectId: project.id, projectName: project.name, repositoryName: v.repositoryName },
          opts,
        ),
      );
    },
  });
}
