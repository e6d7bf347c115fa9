import { z } from 'zod';
import { securityVulFields } from '../../db/repos/security-hub.js';
import type { SecuritySummary, VulnerabilityView } from '../../services/securityhub/security-hub.js';
import { authorize } from './access.js';
import type { ApiDeps } from './deps.js';
import { parseListQuery, setPageHeaders } from './list-query.js';
import { listParams, q, type ApiRouter } from './router.js';

const int = z.number().int();
const summaryModel = z.object({
  critical_cnt: int,
  high_cnt: int,
  medium_cnt: int,
  low_cnt: int,
  none_cnt: int,
  unknown_cnt: int,
  total_vuls: int,
  scanned_cnt: int,
  total_artifact: int,
  fixable_cnt: int,
  dangerous_cves: z
    .array(
      z.object({
        cve_id: z.string(),
        severity: z.string(),
        cvss_score_v3: z.number(),
        desc: z.string(),
        package: z.string(),
        version: z.string(),
      }),
    )
    .optional(),
  dangerous_artifacts: z
    .array(
      z.object({
        project_id: int,
        repository_name: z.string(),
        digest: z.string(),
        critical_cnt: int,
        high_cnt: int,
        medium_cnt: int,
      }),
    )
    .optional(),
});

const vulnerabilityModel = z.object({
  project_id: int,
  repository_name: z.string(),
  digest: z.string(),
  tags: z.array(z.string()).optional(),
  cve_id: z.string(),
  severity: z.string(),
  status: z.string(),
  cvss_v3_score: z.number(),
  package: z.string(),
  version: z.string(),
  fixed_version: z.string(),
  desc: z.string(),
  links: z.array(z.string()),
});

function renderSummary(s: SecuritySummary): z.infer<typeof summaryModel> {
  return {
    critical_cnt: s.critical,
    high_cnt: s.high,
    medium_cnt: s.medium,
    low_cnt: s.low,
    none_cnt: s.none,
    unknown_cnt: s.unknown,
    total_vuls: s.critical + s.high + s.medium + s.low + s.none + s.unknown,
    scanned_cnt: s.scanned,
    total_artifact: s.totalArtifacts,
    fixable_cnt: s.fixable,
    // Harbor leaves the lists out when empty (x-omitempty).
    ...(s.dangerousCves?.length
      ? {
          dangerous_cves: s.dangerousCves.map((c) => ({
            cve_id: c.cveId,
            severity: c.severity,
            cvss_score_v3: c.cvssScoreV3,
            desc: c.description,
            package: c.package,
            version: c.version,
          })),
        }
      : {}),
    ...(s.dangerousArtifacts?.length
      ? {
          dangerous_artifacts: s.dangerousArtifacts.map((a) => ({
            project_id: a.projectId,
            repository_name: a.repository,
            digest: a.digest,
            critical_cnt: a.critical,
            high_cnt: a.high,
            medium_cnt: a.medium,
          })),
        }
      : {}),
  };
}

function linksOf(stored: string): string[] {
  try {
    const parsed = JSON.parse(stored) as unknown;
    return Array.isArray(parsed) ? parsed.filter((l): l is string => typeof l === 'string') : [];
  } catch {
    return stored ? stored.split('|') : [];
  }
}

function renderVulnerability(v: VulnerabilityView): z.infer<typeof vulnerabilityModel> {
  return {
    project_id: v.projectId,
    repository_name: v.repository,
    digest: v.digest,
    ...(v.tags ? { tags: v.tags } : {}),
    cve_id: v.cveId,
    severity: v.severity,
    status: '',
    cvss_v3_score: v.cvssScoreV3 ?? 0,
    package: v.package,
    version: v.version,
    fixed_version: v.fixVersion,
    desc: v.description,
    links: linksOf(v.links),
  };
}

/** Harbor's security hub (swagger tag `securityhub`): system administrators' view of every vulnerability. */
export function securityhubRoutes(api: ApiRouter, deps: ApiDeps): void {
  const tag = 'securityhub';

  api.add({
    operationId: 'getSecuritySummary',
    tag,
    method: 'GET',
    path: '/security/summary',
    summary: 'Get vulnerability system summary',
    query: z.object({
      with_dangerous_cve: q.bool.optional(),
      with_dangerous_artifact: q.bool.optional(),
    }),
    status: 200,
    response: summaryModel,
    handler: async ({ query }, request) => {
      await authorize(request, deps.can, 'read', { scope: 'system', resource: 'security-hub' });
      return renderSummary(
        await deps.securityHub.summary({
          withCves: query.with_dangerous_cve ?? false,
          withArtifacts: query.with_dangerous_artifact ?? false,
        }),
      );
    },
  });

  api.add({
    operationId: 'ListVulnerabilities',
    tag,
    method: 'GET',
    path: '/security/vul',
    summary: 'Get the vulnerability list.',
    query: z.object({ ...listParams, tune_count: q.bool.optional(), with_tag: q.bool.optional() }),
    status: 200,
    response: z.array(vulnerabilityModel),
    headers: ['X-Total-Count', 'Link'],
    handler: async ({ query }, request, reply) => {
      await authorize(request, deps.can, 'list', { scope: 'system', resource: 'security-hub' });
      const list = parseListQuery(query, securityVulFields);
      const page = await deps.securityHub.vulnerabilities(list, {
        tuneCount: query.tune_count ?? false,
        withTag: query.with_tag ?? false,
      });
      setPageHeaders(request, reply, page.total, list);
      return page.items.map(renderVulnerability);
    },
  });
}
