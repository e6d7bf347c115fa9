import { z } from 'zod';
import { scannerFields } from '../../db/repos/scanner-registrations.js';
import { maxProjectNameLength } from '../../services/projects/project-service.js';
import { requireSignedIn } from './project-access.js';
import type { ApiDeps } from './deps.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { projectFor } from './project.js';
import { listParams, type ApiRouter } from './router.js';

const tag = 'project';
const projectRef = z.object({ project_name_or_id: z.string().min(1).max(maxProjectNameLength) });

/** Harbor's project scanner operations (tag `project`): which scanner a project uses, and the choice. */
export function projectScannerRoutes(api: ApiRouter, deps: ApiDeps): void {
  const { scanners } = deps;

  api.add({
    operationId: 'getScannerOfProject',
    tag,
    method: 'GET',
    path: '/projects/{project_name_or_id}/scanner',
    summary: "The project's scanner registration, else the system default (null when there is none)",
    params: projectRef,
    status: 200,
    async handler({ params }, request, reply) {
      // Harbor asks for a signed-in caller before it looks at the project.
      requireSignedIn(request);
      const project = await projectFor(deps, request, params.project_name_or_id, 'read', 'scanner');
      const registration = await scanners.projectScanner(project.id);
      // Harbor answers a JSON null when no scanner is configured at all.
      return registration ?? reply.type('application/json').send('null');
    },
  });

  api.add({
    operationId: 'setScannerOfProject',
    tag,
    method: 'PUT',
    path: '/projects/{project_name_or_id}/scanner',
    summary: 'Configure scanner for the specified project',
    params: projectRef,
    body: z.object({ uuid: z.string().max(64) }),
    status: 200,
    async handler({ params, body }, request) {
      requireSignedIn(request);
      const project = await projectFor(deps, request, params.project_name_or_id, 'create', 'scanner');
      await scanners.setProjectScanner(project.id, body.uuid);
      return undefined;
    },
  });

  api.add({
    operationId: 'listScannerCandidatesOfProject',
    tag,
    method: 'GET',
    path: '/projects/{project_name_or_id}/scanner/candidates',
    summary: 'The scanner registrations a project may choose from',
    params: projectRef,
    query: z.object(listParams),
    status: 200,
    headers: ['X-Total-Count', 'Link'],
    async handler({ params, query }, request, reply) {
      requireSignedIn(request);
      await projectFor(deps, request, params.project_name_or_id, 'create', 'scanner');
      const list = parseListQuery(query, scannerFields);
      const page = await scanners.list(list);
      setPageHeaders(request, reply, page.total, list);
      return page.items;
    },
  });
}
