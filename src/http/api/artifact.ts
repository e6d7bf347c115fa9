import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { artifactFields, tagFields } from '../../db/repos/artifact-catalog.js';
import type { ProjectRow } from '../../db/tables.js';
import type { ArtifactRef } from '../../services/artifacts/artifact-service.js';
import { contextOf } from '../context.js';
import { renderAccessory, renderArtifact, renderTag, repoPath } from './artifact-render.js';
import type { ApiDeps } from './deps.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { accessoryModel, artifactModel, tagModel } from './models.js';
import { projectFor } from './project.js';
import { repoParams } from './repository.js';
import { listParams, q, type ApiRouter } from './router.js';

const artifactParams = repoParams.extend({ reference: z.string().min(1).max(255) });
export const withFlags = {
  with_tag: q.bool.optional(),
  with_label: q.bool.optional(),
  with_scan_overview: q.bool.optional(),
  with_sbom_overview: q.bool.optional(),
  with_signature: q.bool.optional(),
  with_immutable_status: q.bool.optional(),
  with_accessory: q.bool.optional(),
};
type Flags = { [K in keyof typeof withFlags]?: boolean | undefined };
export function options(f: Flags) {
  return {
    withTag: f.with_tag ?? true,
    withLabel: f.with_label ?? false,
    withAccessory: f.with_accessory ?? false,
    withScanOverview: f.with_scan_overview ?? false,
    withSbomOverview: f.with_sbom_overview ?? false,
  };
}

type RepoPath = { project_name: string; repository_name: string };

/** The project a repository path names, after checking `resource:action` in it. */
function projectOf(
  deps: ApiDeps,
  request: FastifyRequest,
  params: RepoPath,
  resource: string,
  action: string,
) {
  return projectFor(deps, request, params.project_name, action, resource, true);
}

function refOf(project: ProjectRow, params: RepoPath & { reference: string }): ArtifactRef {
  return { project, repository: params.repository_name, reference: params.reference };
}

/** Where rendered artifacts live: Harbor names the repository in full. */
function placeOf(project: ProjectRow, params: RepoPath) {
  return {
    projectId: project.id,
    projectName: project.name,
    repositoryName: `${project.name}/${params.repository_name}`,
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
      const project = await projectOf(deps, request, params, 'artifact', 'list');
      const opts = options(query);
      const where = { project, repository: params.repository_name };
      const page = await deps.artifacts.list(contextOf(request), where, list, opts);
      setPageHeaders(request, reply, page.total, list);
      return page.items.map((v) => renderArtifact(v, placeOf(project, params), opts));
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
      const project = await projectOf(deps, request, params, 'artifact', 'create');
      const digest = await deps.copier.copyArtifact(
        contextOf(request),
        query.from,
        { project, repository: params.repository_name },
        (source) => projectFor(deps, request, source, 'read', 'artifact', true).then(() => undefined),
      );
      const { projectName, repositoryName } = placeOf(project, params);
      reply.header('Location', `${repoPath(projectName, repositoryName)}/artifacts/${digest}`);
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
      const project = await projectOf(deps, request, params, 'artifact', 'read');
      const opts = options(query);
      const view = await deps.artifacts.getArtifact(contextOf(request), refOf(project, params), opts);
      return renderArtifact(view, placeOf(project, params), opts);
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
      const project = await projectOf(deps, request, params, 'artifact', 'delete');
      await deps.artifacts.deleteArtifact(contextOf(request), refOf(project, params));
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
      const project = await projectOf(deps, request, params, 'tag', 'create');
      const digest = await deps.artifacts.createTag(contextOf(request), refOf(project, params), body.name);
      const { projectName, repositoryName } = placeOf(project, params);
      reply.header(
        'Location',
        `${repoPath(projectName, repositoryName)}/artifacts/${digest}/tags/${body.name}`,
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
      const project = await projectOf(deps, request, params, 'tag', 'list');
      const page = await deps.artifacts.listTags(contextOf(request), refOf(project, params), list);
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
      const project = await projectOf(deps, request, params, 'tag', 'delete');
      await deps.artifacts.deleteTag(contextOf(request), refOf(project, params), params.tag_name);
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
      const project = await projectOf(deps, request, params, 'accessory', 'list');
      const page = await deps.artifacts.listAccessories(contextOf(request), refOf(project, params), list);
      setPageHeaders(request, reply, page.total, list);
      const { repositoryName } = placeOf(project, params);
      return page.items.map((a) => renderAccessory(a, page.subject, repositoryName));
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
      const project = await projectOf(deps, request, params, 'artifact-addition', 'read');
      return deps.artifacts.getVulnerabilitiesAddition(contextOf(request), refOf(project, params));
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
      const project = await projectOf(deps, request, params, 'artifact-addition', 'read');
      const ref = refOf(project, params);
      const addition = await deps.artifacts.getAddition(contextOf(request), ref, params.addition);
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
      const project = await projectOf(deps, request, params, 'artifact-label', 'create');
      await deps.artifacts.addLabel(contextOf(request), refOf(project, params), body.id);
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
      const project = await projectOf(deps, request, params, 'artifact-label', 'delete');
      await deps.artifacts.removeLabel(contextOf(request), refOf(project, params), params.label_id);
      return undefined;
    },
  });
}
