import { z } from 'zod';
import { subjectOf } from './access.js';
import type { ApiDeps } from './deps.js';
import { renderProject } from './project.js';
import type { ApiRouter } from './router.js';

export function searchRoutes(api: ApiRouter, deps: ApiDeps): void {
  api.add({
    operationId: 'search',
    tag: 'search',
    method: 'GET',
    path: '/search',
    summary: 'Search for projects and repositories',
    query: z.object({ q: z.string().min(1).max(255) }),
    status: 200,
    handler: async ({ query }, request) => {
      const found = await deps.system.search(subjectOf(request), query.q);
      return {
        project: found.projects.map(renderProject),
        repository: found.repositories.map((r) => ({
          project_id: r.project_id,
          project_name: r.project.name,
          project_public: r.project.public === 1,
          repository_name: r.name,
          pull_count: Number(r.pull_count),
          artifact_count: r.artifact_count,
        })),
      };
    },
  });
}
