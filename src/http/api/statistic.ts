import { z } from 'zod';
import { requireAuthenticated, subjectOf } from './access.js';
import type { ApiDeps } from './deps.js';
import type { ApiRouter } from './router.js';

export function statisticRoutes(api: ApiRouter, deps: ApiDeps): void {
  api.add({
    operationId: 'getStatistic',
    tag: 'statistic',
    method: 'GET',
    path: '/statistics',
    summary: 'Get the statistic information about the projects and repositories',
    status: 200,
    response: z.record(z.string(), z.number().int()),
    handler: async (_input, request) => {
      await requireAuthenticated(request, deps.can);
      const s = await deps.system.statistics(subjectOf(request));
      const all = s.seesAll;
      return {
        private_project_count: s.privateProjects,
        private_repo_count: s.privateRepositories,
        public_project_count: s.publicProjects,
        public_repo_count: s.publicRepositories,
        // Totals are for those who see everything (Harbor: the system admin).
        total_project_count: all ? s.privateProjects + s.publicProjects : 0,
        total_repo_count: all ? s.privateRepositories + s.publicRepositories : 0,
        total_storage_consumption: all ? s.totalStorage : 0,
      };
    },
  });
}
