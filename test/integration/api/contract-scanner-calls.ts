// The calls of the contract test for Harbor's `scanner` tag (kept apart: contract.test.ts is long).
import type { ApiResponse } from '../../helpers/harbor-api.js';
import { startTestAdapter } from '../../helpers/scanner-adapter.js';
import type { Call } from './contract-gc-calls.js';

type RunCalls = (
  plan: Call[],
  exercised: Set<string>,
  fill: (call: Call) => Call,
  seen: (call: Call, res: ApiResponse) => void,
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
    { op: 'getScanner', method: 'GET', path: '/scanners/nope', status: 404 },
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
    { op: 'deleteScanner', method: 'DELETE', path: `/scanners/${builtin}`, status: 403 },
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
    { op: 'stopScanAll', method: 'POST', path: '/system/scanAll/stop', status: 400 },
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
    },
    {
      op: 'updateScanAllSchedule',
      method: 'PUT',
      path: '/system/scanAll/schedule',
      body: manual,
      status: 400,
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
