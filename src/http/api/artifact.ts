import { z } from 'zod';
import { artifactFields, tagFields } from '../../db/repos/artifact-catalog.js';
import { AppError } from '../../lib/errors.js';
import { contextOf } from '../context.js';
import { renderAccessory, renderArtifact, renderTag, repoPath } from './artifact-render.js';
import type { ApiDeps } from './deps.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { accessoryModel, artifactModel, tagModel } from './models.js';
import { authorizeInProject } from './project.js';
import { repoParams, repositoryFor } from './repository.js';
import { listParams, q, type ApiRouter } from './router.js';

const artifactParams = repoParams.extend({ reference: z.string().min(1).max(255) });
const withFlags = {
  with_tag: q.bool.optional(),
  with_label: q.bool.optional(),
  with_scan_overview: q.bool.optional(),
  with_sbom_overview: q.bool.optional(),
  with_signature: q.bool.optional(),
  with_immutable_status: q.bool.optional(),
  with_accessory: q.bool.optional(),
};
type Flags = { [K in keyof typeof withFlags]?: boolean | undefined };
function options(f: Flags) {
  return {
    withTag: f.with_tag ?? true,
    withLabel: f.with_label ?? false,
    withAccessory: f.with_accessory ?? false,
    withScanOverview: f.with_scan_overview ?? false,
  };
}

export function artifactRoutes(api: ApiRouter, deps: ApiDeps): void {
  const tag = 'artifact';
  api.add({
    operationId: 'listArtifacts',
    tag,
    method: 'GET',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts',
    summary: 'List artifacts',
    params: repoParams,
    query: z.object({ ...listParams, ...withFlags, latest_in_repository: q.bool.optional() }),
    status: 200,
    response: z.array(artifactModel),
    headers: ['X-Total-Count', 'Link'],
    handler: async ({ params, query }, request, reply) => {
      const list = parseListQuery(query, artifactFields);
      const { project, repo } = await repositoryFor(deps, request, params, 'artifact', 'list');
      const opts = options(query);
      const page = await deps.artifacts.list(contextOf(request), { repository: repo }, list, opts);
      setPageHeaders(request, reply, page.total, list);
      const where = { projectId: project.id, projectName: project.name, repositoryName: repo.name };
      return page.items.map((v) => renderArtifact(v, where, opts));
    },
  });

  api.add({
    operationId: 'CopyArtifact',
    tag,
    method: 'POST',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts',
    summary: 'Copy artifact',
    params: repoParams,
    query: z.object({ from: z.string().min(3).max(1024) }),
    status: 201,
    headers: ['Location'],
    handler: async ({ params, query }, request, reply) => {
      const project = await deps.projects.find(params.project_name, true);
      await authorizeInProject(deps, request, project, 'create', 'artifact');
      const source = await deps.copier.source(query.from);
      const srcProject = await deps.projects.find(source.projectName, true);
      await authorizeInProject(deps, request, srcProject, 'read', 'artifact');
      const target = `${project.name}/${params.repository_name}`;
      const digest = await deps.copier.copy(contextOf(request), source, project, target);
      reply.header('Location', `${repoPath(project.name, target)}/artifacts/${digest}`);
      return undefined;
    },
  });

  api.add({
    operationId: 'getArtifact',
    tag,
    method: 'GET',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}',
    summary: 'Get the specific artifact',
    params: artifactParams,
    query: z.object(withFlags),
    status: 200,
    response: artifactModel,
    handler: async ({ params, query }, request) => {
      const { project, repo } = await repositoryFor(deps, request, params, 'artifact', 'read');
      const row = await deps.artifacts.find(repo, params.reference);
      const opts = options(query);
      const [view] = await deps.artifacts.views([row], opts, repo);
      return renderArtifact(
        view!,
        { projectId: project.id, projectName: project.name, repositoryName: repo.name },
        opts,
      );
    },
  });

  api.add({
    operationId: 'deleteArtifact',
    tag,
    method: 'DELETE',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}',
    summary: 'Delete the specific artifact',
    params: artifactParams,
    status: 200,
    handler: async ({ params }, request) => {
      const { repo } = await repositoryFor(deps, request, params, 'artifact', 'delete');
      const row = await deps.artifacts.find(repo, params.reference);
      await deps.artifacts.delete(contextOf(request), repo, row);
      return undefined;
    },
  });

  api.add({
    operationId: 'createTag',
    tag,
    method: 'POST',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags',
    summary: 'Create tag',
    params: artifactParams,
    body: tagModel
      .partial()
      .extend({ name: z.string().min(1).max(255) })
      .strict(),
    status: 201,
    headers: ['Location'],
    handler: async ({ params, body }, request, reply) => {
      const { project, repo } = await repositoryFor(deps, request, params, 'tag', 'create');
      const row = await deps.artifacts.find(repo, params.reference);
      await deps.artifacts.createTag(contextOf(request), repo, row, body.name);
      reply.header(
        'Location',
        `${repoPath(project.name, repo.name)}/artifacts/${row.digest}/tags/${body.name}`,
      );
      return undefined;
    },
  });

  api.add({
    operationId: 'listTags',
    tag,
    method: 'GET',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags',
    summary: 'List tags',
    params: artifactParams,
    query: z.object({
      ...listParams,
      with_signature: q.bool.optional(),
      with_immutable_status: q.bool.optional(),
    }),
    status: 200,
    response: z.array(tagModel),
    headers: ['X-Total-Count', 'Link'],
    handler: async ({ params, query }, request, reply) => {
      const list = parseListQuery(query, tagFields);
      const { repo } = await repositoryFor(deps, request, params, 'tag', 'list');
      const row = await deps.artifacts.find(repo, params.reference);
      const page = await deps.artifacts.tags(repo, row, list);
      setPageHeaders(request, reply, page.total, list);
      return page.items.map(renderTag);
    },
  });

  api.add({
    operationId: 'deleteTag',
    tag,
    method: 'DELETE',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/tags/{tag_name}',
    summary: 'Delete tag',
    params: artifactParams.extend({ tag_name: z.string().min(1).max(255) }),
    status: 200,
    handler: async ({ params }, request) => {
      const { repo } = await repositoryFor(deps, request, params, 'tag', 'delete');
      const row = await deps.artifacts.find(repo, params.reference);
      await deps.artifacts.deleteTag(contextOf(request), repo, row, params.tag_name);
      return undefined;
    },
  });

  api.add({
    operationId: 'listAccessories',
    tag,
    method: 'GET',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/accessories',
    summary: 'List accessories',
    params: artifactParams,
    query: z.object(listParams),
    status: 200,
    response: z.array(accessoryModel),
    headers: ['X-Total-Count', 'Link'],
    handler: async ({ params, query }, request, reply) => {
      const list = parseListQuery(query, {});
      const { repo } = await repositoryFor(deps, request, params, 'accessory', 'list');
      const row = await deps.artifacts.find(repo, params.reference);
      const all = await deps.artifacts.accessories(repo, row);
      const start = (list.page - 1) * list.pageSize;
      setPageHeaders(request, reply, all.length, list);
      return all.slice(start, start + list.pageSize).map((a) => renderAccessory(a, row, repo.name));
    },
  });

  api.add({
    operationId: 'getVulnerabilitiesAddition',
    tag,
    method: 'GET',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/additions/vulnerabilities',
    summary: 'Get the vulnerabilities addition of the specific artifact',
    params: artifactParams,
    status: 200,
    handler: async ({ params }, request) => {
      const { repo } = await repositoryFor(deps, request, params, 'artifact-addition', 'read');
      await deps.artifacts.find(repo, params.reference);
      // No scanner is configured: Harbor answers an empty report map.
      return {};
    },
  });

  api.add({
    operationId: 'getAddition',
    tag,
    method: 'GET',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/additions/{addition}',
    summary: 'Get the addition of the specific artifact',
    params: artifactParams.extend({
      addition: z.enum(['build_history', 'values.yaml', 'readme.md', 'dependencies', 'sbom', 'license']),
    }),
    status: 200,
    handler: async ({ params }, request, reply) => {
      const { repo } = await repositoryFor(deps, request, params, 'artifact-addition', 'read');
      const row = await deps.artifacts.find(repo, params.reference);
      const addition = await deps.artifacts.addition(row, params.addition);
      reply.code(200).type(addition.contentType);
      return reply.send(addition.body);
    },
  });

  api.add({
    operationId: 'addLabel',
    tag,
    method: 'POST',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/labels',
    summary: 'Add label to artifact',
    params: artifactParams,
    body: z
      .object({
        id: z.number().int().min(1),
        name: z.string().optional(),
        description: z.string().optional(),
        color: z.string().optional(),
        scope: z.string().optional(),
        project_id: z.number().int().optional(),
        creation_time: z.string().optional(),
        update_time: z.string().optional(),
      })
      .strict(),
    status: 200,
    handler: async ({ params, body }, request) => {
      const { project, repo } = await repositoryFor(deps, request, params, 'artifact-label', 'create');
      const row = await deps.artifacts.find(repo, params.reference);
      await deps.artifacts.addLabel(contextOf(request), project.id, row, body.id);
      return undefined;
    },
  });

  api.add({
    operationId: 'removeLabel',
    tag,
    method: 'DELETE',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/labels/{label_id}',
    summary: 'Remove label from artifact',
    params: artifactParams.extend({ label_id: q.id }),
    status: 200,
    handler: async ({ params }, request) => {
      const { repo } = await repositoryFor(deps, request, params, 'artifact-label', 'delete');
      const row = await deps.artifacts.find(repo, params.reference);
      if (!row) throw new AppError('NOT_FOUND', 'artifact not found');
      await deps.artifacts.removeLabel(contextOf(request), row, params.label_id);
      return undefined;
    },
  });
}
