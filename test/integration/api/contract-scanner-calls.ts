// The calls of the contract test for Harbor's `scanner` tag (kept apart: contract.test.ts is long).
import assert from 'node:assert/strict';
import type { ApiResponse, HarborApi } from '../../helpers/harbor-api.js';
import { makeImage, RegistryClient } from '../../helpers/registry-client.js';
import { waitFor } from '../../helpers/wait.js';
import { startTestAdapter } from '../../helpers/scanner-adapter.js';
import type { Call } from './contract-gc-calls.js';

type RunCalls = (
  plan: Call[],
  exercised: Set<string>,
  fill: (call: Call) => Call,
  seen: (call: Call, res: ApiResponse) => void | Promise<void>,
) => Promise<string[]>;

const builtin = '00000000-0000-4000-8000-00000000be47';

/** Every operation of the `scanner` tag against an adapter at `adapterUrl`; `{id}` is the one created. */
export function scannerCalls(adapterUrl: string): Call[] {
  const reg = { name: 'Contract', url: adapterUrl, description: 'contract test adapter' };
  return [
    { op: 'listScanners', method: 'GET', path: '/scanners?page=1&page_size=10', status: 200 },
    { op: 'listScanners', method: 'GET', path: '/scanners?q=name%3D%5Ba', status: 400 },
    { op: 'pingScanner', method: 'POST', path: '/scanners/ping', body: reg, status: 200 },
    {
      op: 'pingScanner',
      method: 'POST',
      path: '/scanners/ping',
      body: { ...reg, url: 'http://127.0.0.1:1' },
      status: 400,
    },
    { op: 'createScanner', method: 'POST', path: '/scanners', body: reg, status: 201 },
    { op: 'createScanner', method: 'POST', path: '/scanners', body: { ...reg, name: '' }, status: 400 },
    { op: 'getScanner', method: 'GET', path: '/scanners/{id}', status: 200 },
    {
      op: 'getScanner',
      method: 'GET',
      path: '/scanners/nope',
      status: 404,
      error: { code: 'NOT_FOUND', message: 'scanner nope not found' },
    },
    {
      op: 'updateScanner',
      method: 'PUT',
      path: '/scanners/{id}',
      body: { ...reg, description: 'edited' },
      status: 200,
    },
    { op: 'updateScanner', method: 'PUT', path: `/scanners/${builtin}`, body: reg, status: 403 },
    { op: 'getScannerMetadata', method: 'GET', path: '/scanners/{id}/metadata', status: 200 },
    { op: 'getScannerMetadata', method: 'GET', path: `/scanners/${builtin}/metadata`, status: 200 },
    {
      op: 'setScannerAsDefault',
      method: 'PATCH',
      path: '/scanners/{id}',
      body: { is_default: true },
      status: 200,
    },
    {
      op: 'setScannerAsDefault',
      method: 'PATCH',
      path: `/scanners/${builtin}`,
      body: { is_default: true },
      status: 200,
    },
    {
      op: 'deleteScanner',
      method: 'DELETE',
      path: `/scanners/${builtin}`,
      status: 403,
      error: {
        code: 'FORBIDDEN',
        message: 'registration Berth is not allowed to delete as it is immutable: scanner API: delete',
      },
    },
    { op: 'deleteScanner', method: 'DELETE', path: '/scanners/{id}', status: 200 },
    { op: 'deleteScanner', method: 'DELETE', path: '/scanners/{id}', status: 404 },
  ];
}

/** Runs the scanner calls with `run` (the contract test's runCalls) against a test adapter on 127.0.0.1. */
export async function scannerContract(run: RunCalls) {
  const adapter = await startTestAdapter();
  let id = '';
  const exercised = new Set<string>();
  try {
    const failures = await run(
      scannerCalls(adapter.url),
      exercised,
      (call) => ({ ...call, path: call.path.replace('{id}', id) }),
      (call, res) => {
        if (call.op === 'createScanner' && res.status === 201)
          id = res.headers.get('location')!.split('/').pop()!;
      },
    );
    return { failures, exercised };
  } finally {
    await adapter.close();
  }
}

/** The project scanner operations (tag `project`) on project `p`. */
export function projectScannerCalls(p: string): Call[] {
  const path = `/projects/${p}/scanner`;
  return [
    { op: 'getScannerOfProject', method: 'GET', path, status: 200 },
    { op: 'setScannerOfProject', method: 'PUT', path, body: { uuid: builtin }, status: 200 },
    { op: 'setScannerOfProject', method: 'PUT', path, body: { uuid: 'x' }, status: 404 },
    {
      op: 'listScannerCandidatesOfProject',
      method: 'GET',
      path: `${path}/candidates?page_size=10`,
      status: 200,
    },
  ];
}

/** updateProject's metadata and the project's own CVE allowlist, which getProject shows (Harbor's CVEAllowlist). */
export function projectUpdateCalls(p: string): Call[] {
  const path = `/projects/${p}`;
  return [
    { op: 'updateProject', method: 'PUT', path, body: { metadata: { auto_scan: 'true' } }, status: 200 },
    { op: 'updateProject', method: 'PUT', path, body: { metadata: { auto_scan: 'maybe' } }, status: 400 },
    {
      op: 'updateProject',
      method: 'PUT',
      path,
      body: { cve_allowlist: { expires_at: 4102444800, items: [{ cve_id: 'CVE-2024-0001' }] } },
      status: 200,
    },
    { op: 'getProject', method: 'GET', path, status: 200 },
    {
      op: 'updateProject',
      method: 'PUT',
      path,
      body: { cve_allowlist: { project_id: 999999, items: [] } },
      status: 400,
    },
  ];
}

/** Every operation of the `scanAll` tag, in an order that leaves each call something to act on. */
export function scanAllCalls(): Call[] {
  const manual = { schedule: { type: 'Manual' } };
  return [
    { op: 'getScanAllSchedule', method: 'GET', path: '/system/scanAll/schedule', status: 200 },
    { op: 'getLatestScanAllMetrics', method: 'GET', path: '/scans/all/metrics', status: 200 },
    {
      op: 'stopScanAll',
      method: 'POST',
      path: '/system/scanAll/stop',
      status: 400,
      error: { code: 'BAD_REQUEST', message: 'no scan all job is found currently' },
    },
    {
      op: 'createScanAllSchedule',
      method: 'POST',
      path: '/system/scanAll/schedule',
      body: { schedule: { type: 'Daily', cron: '0 0 0 * * *' } },
      status: 201,
    },
    {
      op: 'createScanAllSchedule',
      method: 'POST',
      path: '/system/scanAll/schedule',
      body: { schedule: { type: 'Daily', cron: '0 0 0 * * *' } },
      status: 412,
      error: {
        code: 'PRECONDITION',
        message:
          'fail to set schedule for scan all as always had one, please delete it firstly then to re-schedule',
      },
    },
    {
      op: 'updateScanAllSchedule',
      method: 'PUT',
      path: '/system/scanAll/schedule',
      body: manual,
      status: 400,
      error: {
        code: 'BAD_REQUEST',
        message: 'fail to update scan all schedule as wrong schedule type: Manual',
      },
    },
    {
      op: 'updateScanAllSchedule',
      method: 'PUT',
      path: '/system/scanAll/schedule',
      body: { schedule: { type: 'None' } },
      status: 200,
    },
    {
      op: 'createScanAllSchedule',
      method: 'POST',
      path: '/system/scanAll/schedule',
      body: manual,
      status: 201,
    },
    { op: 'getLatestScanAllMetrics', method: 'GET', path: '/scans/all/metrics', status: 200 },
    {
      op: 'getLatestScheduledScanAllMetrics',
      method: 'GET',
      path: '/scans/schedule/metrics',
      status: 200,
    },
    { op: 'stopScanAll', method: 'POST', path: '/system/scanAll/stop', status: 202 },
  ];
}

/**
 * Every operation of the `scan` tag on `repo` (a repository path of the API) holding `image` (scanned by the
 * first call) and `unscanned`; `{report}` is the report the scan made. Errors carry Harbor's codes and messages
 * (src/server/v2.0/handler/scan.go, src/controller/scan/base_controller.go).
 */
export function scanCalls(repo: string, image: string, unscanned: string): Call[] {
  const art = `${repo}/artifacts/${image}`;
  const name = repo.replace('/projects/', '').replace('/repositories/', '/');
  return [
    { op: 'scanArtifact', method: 'POST', path: `${art}/scan`, status: 202 },
    {
      op: 'scanArtifact',
      method: 'POST',
      path: `${repo}/artifacts/nope/scan`,
      status: 404,
      error: { code: 'NOT_FOUND', message: `artifact ${name}:nope not found` },
    },
    {
      op: 'scanArtifact',
      method: 'POST',
      path: `${repo.replace(/repositories\/[^/]+$/, 'repositories/none')}/artifacts/v1/scan`,
      status: 404,
      error: { code: 'NOT_FOUND', message: `repository ${name.split('/')[0]}/none not found` },
    },
    {
      op: 'stopScanArtifact',
      method: 'POST',
      path: `${repo}/artifacts/${unscanned}/scan/stop`,
      body: { scan_type: 'vulnerability' },
      status: 400,
      error: { code: 'BAD_REQUEST', message: `no scan job for artifact digest=${unscanned}` },
    },
    { op: 'stopScanArtifact', method: 'POST', path: `${art}/scan/stop`, status: 202 },
    { op: 'getReportLog', method: 'GET', path: `${art}/scan/{report}/log`, status: 200 },
    {
      op: 'getReportLog',
      method: 'GET',
      path: `${art}/scan/0b8c4bd6-5a5e-4a51-9a3b-000000000000/log`,
      status: 404,
      error: {
        code: 'NOT_FOUND',
        message: 'report with uuid 0b8c4bd6-5a5e-4a51-9a3b-000000000000 does not exist',
      },
    },
  ];
}

/**
 * The `SystemCVEAllowlist` tag's operations, and a project allowlist through updateProject (project `p`):
 * a list naming a CVE twice or a blank id is refused whole with the messages of Harbor's allowlist validator
 * (src/pkg/allowlist/validator.go).
 */
export function systemAllowlistCalls(p: string): Call[] {
  const path = '/system/CVEAllowlist';
  const twice = { items: [{ cve_id: 'CVE-2024-0001' }, { cve_id: 'CVE-2024-0001' }] };
  const duplicate = { code: 'BAD_REQUEST', message: 'duplicate CVE ID in allowlist: CVE-2024-0001' };
  return [
    { op: 'getSystemCVEAllowlist', method: 'GET', path, status: 200 },
    {
      op: 'putSystemCVEAllowlist',
      method: 'PUT',
      path,
      body: { expires_at: 4102444800, items: [{ cve_id: 'CVE-2024-0001' }, { cve_id: 'CVE-2024-0002' }] },
      status: 200,
    },
    { op: 'putSystemCVEAllowlist', method: 'PUT', path, body: twice, status: 400, error: duplicate },
    {
      op: 'putSystemCVEAllowlist',
      method: 'PUT',
      path,
      body: { items: [{ cve_id: '  ' }] },
      status: 400,
      error: { code: 'BAD_REQUEST', message: 'empty or whitespace-only CVE ID in allowlist' },
    },
    { op: 'getSystemCVEAllowlist', method: 'GET', path, status: 200 },
    {
      op: 'updateProject',
      method: 'PUT',
      path: `/projects/${p}`,
      body: { cve_allowlist: twice },
      status: 400,
      error: duplicate,
    },
  ];
}

/**
 * Runs the scan and SystemCVEAllowlist calls with `run` (the contract test's runCalls) in a project of its own:
 * one image is scanned, another is not; `{report}` is the report of the scan, from its scan_overview.
 */
export async function scanContract(api: HarborApi, url: string, run: RunCalls) {
  await api.expect(201, 'POST', '/projects', { project_name: 'cscan' });
  const client = new RegistryClient(url);
  const [image, unscanned] = [makeImage(), makeImage()];
  await client.pushImage('cscan/app', image, 'v1');
  await client.pushImage('cscan/app', unscanned, 'v2');
  const repo = '/projects/cscan/repositories/app';
  type Listed = { digest: string; scan_overview?: Record<string, { report_id?: string }> };
  let report = '';
  const exercised = new Set<string>();
  const failures = await run(
    scanCalls(repo, image.digest, unscanned.digest),
    exercised,
    (call) => ({ ...call, path: call.path.replace('{report}', report) }),
    async (call, res) => {
      if (call.op !== 'scanArtifact' || res.status !== 202) return;
      report = await waitFor('the report', async () => {
        const list = await api.expect<Listed[]>(200, 'GET', `${repo}/artifacts?with_scan_overview=true`);
        const own = list.body.find((a) => a.digest === image.digest);
        return Object.values(own?.scan_overview ?? {})[0]?.report_id;
      });
    },
  );
  failures.push(
    ...(await run(
      systemAllowlistCalls('cscan'),
      exercised,
      (c) => c,
      () => undefined,
    )),
  );
  // A refused list leaves the stored one as it was.
  const list = await api.expect<{ items: { cve_id: string }[] }>(200, 'GET', '/system/CVEAllowlist');
  assert.deepEqual(list.body.items, [{ cve_id: 'CVE-2024-0001' }, { cve_id: 'CVE-2024-0002' }]);
  return { failures, exercised };
}

/** The securityhub and scan data export calls on project `pid`; `{eid}` is the export the call starts. */
export function securityHubCalls(pid: number): Call[] {
  const type = { 'X-Scan-Data-Type': 'application/vnd.security.vulnerability.report; version=1.1' };
  return [
    {
      op: 'getSecuritySummary',
      method: 'GET',
      path: '/security/summary?with_dangerous_cve=true',
      status: 200,
    },
    { op: 'ListVulnerabilities', method: 'GET', path: '/security/vul?q=severity%3DHigh', status: 200 },
    { op: 'ListVulnerabilities', method: 'GET', path: '/security/vul?q=nope%3D1', status: 400 },
    { op: 'exportScanData', method: 'POST', path: '/export/cve', body: { projects: [pid] }, status: 400 },
    {
      op: 'exportScanData',
      method: 'POST',
      path: '/export/cve',
      body: { projects: [pid] },
      headers: type,
      status: 200,
    },
    { op: 'getScanDataExportExecutionList', method: 'GET', path: '/export/cve/executions', status: 200 },
    { op: 'getScanDataExportExecution', method: 'GET', path: '/export/cve/execution/{eid}', status: 200 },
    {
      op: 'getScanDataExportExecution',
      method: 'GET',
      path: '/export/cve/execution/999999',
      status: 404,
    },
  ];
}
