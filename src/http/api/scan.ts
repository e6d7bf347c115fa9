import { z } from 'zod';
import { actorOf, contextOf } from '../context.js';
import type { ApiDeps } from './deps.js';
import { projectFor } from './project.js';
import { repoParams } from './repository.js';
import type { ApiRouter } from './router.js';

const artifactParams = repoParams.extend({ reference: z.string().min(1).max(255) });
/** Harbor's optional body; an unknown scan_type falls back to vulnerability, as Harbor's validScanType does. */
const scanTypeBody = z
  .object({ scan_type: z.string().optional() })
  .optional()
  .nullable()
  .transform((b) => (b?.scan_type === 'sbom' ? 'sbom' : 'vulnerability') as 'sbom' | 'vulnerability');

export function scanRoutes(api: ApiRouter, deps: ApiDeps): void {
  const tag = 'scan';
  /** The artifact a path names, after checking `resource:action` in its project (the one lookup). */
  const refOf = async (
    request: Parameters<typeof projectFor>[1],
    params: z.output<typeof artifactParams>,
    resource: string,
    action: string,
  ) => ({
    project: await projectFor(deps, request, params.project_name, action, resource, true),
    repository: params.repository_name,
    reference: params.reference,
  });

  api.add({
    operationId: 'scanArtifact',
    tag,
    method: 'POST',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/scan',
    summary: 'Scan the artifact',
    params: artifactParams,
    body: scanTypeBody,
    status: 202,
    handler: async ({ params, body }, request) => {
      const ref = await refOf(request, params, body === 'sbom' ? 'sbom' : 'scan', 'create');
      await deps.scans.scanArtifact(contextOf(request), ref, {
        type: body,
        operator: actorOf(request).username,
      });
      return undefined;
    },
  });

  api.add({
    operationId: 'stopScanArtifact',
    tag,
    method: 'POST',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/scan/stop',
    summary: 'Cancelling a scan job for a particular artifact',
    params: artifactParams,
    body: scanTypeBody,
    status: 202,
    handler: async ({ params, body }, request) => {
      const ref = await refOf(request, params, body === 'sbom' ? 'sbom' : 'scan', 'stop');
      await deps.scans.stopScanArtifact(contextOf(request), ref, body, actorOf(request).username);
      return undefined;
    },
  });

  api.add({
    operationId: 'getReportLog',
    tag,
    method: 'GET',
    path: '/projects/{project_name}/repositories/{repository_name}/artifacts/{reference}/scan/{report_id}/log',
    summary: 'Get the log of the scan report',
    params: artifactParams.extend({ report_id: z.string().min(1).max(4096) }),
    status: 200,
    handler: async ({ params }, request, reply) => {
      const ref = await refOf(request, params, 'scan', 'read');
      const log = await deps.scans.reportLog(ref, params.report_id);
      return reply.code(200).type('text/plain; charset=utf-8').send(log);
    },
  });
}
