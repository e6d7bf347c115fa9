import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ScanSubject } from '../../services/scanning/scan-service.js';
import { isDigestString } from '../../oci/digest.js';
import { AppError } from '../../lib/errors.js';
import { actorOf, contextOf } from '../context.js';
import type { ApiDeps } from './deps.js';
import { repoParams, repositoryFor } from './repository.js';
import type { ApiRouter } from './router.js';

const artifactParams = repoParams.extend({ reference: z.string().min(1).max(255) });
/** Harbor's optional body; an unknown scan_type falls back to vulnerability, as Harbor's validScanType does. */
const scanTypeBody = z
  .object({ scan_type: z.string().optional() })
  .optional()
  .nullable()
  .transform((b) => (b?.scan_type === 'sbom' ? 'sbom' : 'vulnerability') as 'sbom' | 'vulnerability');

/** The artifact a scan request names, after checking `resource:action` in its project. */
async function subjectFor(
  deps: ApiDeps,
  request: FastifyRequest,
  params: z.output<typeof artifactParams>,
  resource: string,
  action: string,
): Promise<ScanSubject> {
  const { project, repo } = await repositoryFor(deps, request, params, resource, action);
  const row = await deps.artifacts.find(repo, params.reference);
  return { projectId: project.id, repository: repo.name, repositoryId: repo.id, row };
}

export function scanRoutes(api: ApiRouter, deps: ApiDeps): void {
  const tag = 'scan';

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
      const subject = await subjectFor(deps, request, params, body === 'sbom' ? 'sbom' : 'scan', 'create');
      await deps.scans.scan(contextOf(request), subject, {
        type: body,
        tag: isDigestString(params.reference) ? null : params.reference,
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
      const subject = await subjectFor(deps, request, params, body === 'sbom' ? 'sbom' : 'scan', 'stop');
      await deps.scans.stop(contextOf(request), subject, body, actorOf(request).username);
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
      const subject = await subjectFor(deps, request, params, 'scan', 'read');
      const log = await deps.scans.log(subject, params.report_id);
      if (log === undefined)
        throw new AppError('NOT_FOUND', `report with uuid ${params.report_id} does not exist`);
      return reply.code(200).type('text/plain; charset=utf-8').send(log);
    },
  });
}
