import { z } from 'zod';
import { maxProjectNameLength } from '../../services/projects/project-service.js';
import type { ApiDeps } from './deps.js';
import { projectFor } from './project.js';
import type { ApiRouter } from './router.js';

const tag = 'projectMetadata';
const projectRef = z.object({ project_name_or_id: z.string().min(1).max(maxProjectNameLength) });
const metaRef = projectRef.extend({ meta_name: z.string().min(1).max(64) });
const values = z.record(z.string().max(64), z.string().max(1024));

/** Harbor's `projectMetadata` tag: /projects/{project_name_or_id}/metadatas/… (per-key project settings). */
export function projectMetadataRoutes(api: ApiRouter, deps: ApiDeps): void {
  const metadata = deps.projectMetadata;

  api.add({
    operationId: 'listProjectMetadatas',
    tag,
    method: 'GET',
    path: '/projects/{project_name_or_id}/metadatas/',
    alsoAt: '/projects/{project_name_or_id}/metadatas',
    summary: "All of a project's metadata (Harbor grants this to system admins and robots).",
    params: projectRef,
    status: 200,
    handler: async ({ params }, request, reply) => {
      const project = await projectFor(deps, request, params.project_name_or_id, 'list', 'metadata');
      const all = await metadata.all(project);
      reply.header('X-Total-Count', String(Object.keys(all).length));
      return all;
    },
  });

  api.add({
    operationId: 'addProjectMetadatas',
    tag,
    method: 'POST',
    path: '/projects/{project_name_or_id}/metadatas/',
    alsoAt: '/projects/{project_name_or_id}/metadatas',
    summary: 'Add metadata keys that are not set yet.',
    params: projectRef,
    body: values,
    status: 200,
    handler: async ({ params, body }, request) => {
      const project = await projectFor(deps, request, params.project_name_or_id, 'create', 'metadata');
      await metadata.add(project, body);
      return undefined;
    },
  });

  api.add({
    operationId: 'getProjectMetadata',
    tag,
    method: 'GET',
    path: '/projects/{project_name_or_id}/metadatas/{meta_name}',
    summary: 'One metadata key of a project, as {name: value}.',
    params: metaRef,
    status: 200,
    handler: async ({ params }, request) => {
      const project = await projectFor(deps, request, params.project_name_or_id, 'read', 'metadata');
      return metadata.get(project, params.meta_name);
    },
  });

  api.add({
    operationId: 'updateProjectMetadata',
    tag,
    method: 'PUT',
    path: '/projects/{project_name_or_id}/metadatas/{meta_name}',
    summary: 'Change one metadata key; the body is {meta_name: value}.',
    params: metaRef,
    body: values,
    status: 200,
    handler: async ({ params, body }, request) => {
      const project = await projectFor(deps, request, params.project_name_or_id, 'update', 'metadata');
      await metadata.update(project, params.meta_name, body);
      return undefined;
    },
  });

  api.add({
    operationId: 'deleteProjectMetadata',
    tag,
    method: 'DELETE',
    path: '/projects/{project_name_or_id}/metadatas/{meta_name}',
    summary: 'Remove one metadata key (not public).',
    params: metaRef,
    status: 200,
    handler: async ({ params }, request) => {
      const project = await projectFor(deps, request, params.project_name_or_id, 'delete', 'metadata');
      await metadata.delete(project, params.meta_name);
      return undefined;
    },
  });
}
