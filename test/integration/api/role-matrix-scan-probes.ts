// Role-matrix probes for scanning (scan, SBOM, CVE export): see role-matrix-probes.ts. Harbor's handlers
// (src/server/v2.0/handler/scan.go, scanexport.go) check the project permission before they look at the
// artifact or the execution, so each probe sets up what it acts on as the admin first.
import { SCAN_EXPORT_VENDOR } from '../../../src/services/scan-export/scan-exports.js';
import { REPORT_MIME_TYPE } from '../../../src/services/scanning/builtin/report.js';
import { makeImage, RegistryClient } from '../../helpers/registry-client.js';
import { waitFor } from '../../helpers/wait.js';
import type { Fixture, Probe, Who } from './role-matrix-probes.js';

const artifacts = (f: Fixture) => `/projects/${f.project}/repositories/scanned/artifacts`;

/** Pushes a fresh image as the admin (one per probe run, so no scan is still running on it); its digest. */
async function freshImage(f: Fixture): Promise<string> {
  const image = makeImage();
  await new RegistryClient(f.berth.url, { auth: f.berth.admin }).pushImage(`${f.project}/scanned`, image);
  return image.digest;
}

/** A fresh image the admin has asked to be scanned (`scan_type`); its digest. */
async function scannedImage(f: Fixture, scanType: 'vulnerability' | 'sbom'): Promise<string> {
  const digest = await freshImage(f);
  await f.admin.expect(202, 'POST', `${artifacts(f)}/${digest}/scan`, { scan_type: scanType });
  return digest;
}

/** The id of the vulnerability report the admin's scan of `digest` made, from its scan_overview. */
function reportOf(f: Fixture, digest: string): Promise<string> {
  type Overview = Record<string, { report_id?: string }>;
  return waitFor('the report', async () => {
    const a = await f.admin.expect<{ scan_overview?: Overview }>(
      200,
      'GET',
      `${artifacts(f)}/${digest}?with_scan_overview=true`,
    );
    return Object.values(a.body.scan_overview ?? {})[0]?.report_id;
  });
}

const scanCall = (scanType: 'vulnerability' | 'sbom', stop: boolean): Probe => ({
  key: `${scanType === 'sbom' ? 'sbom' : 'scan'}:${stop ? 'stop' : 'create'}`,
  call: `POST .../artifacts/{digest}/scan${stop ? '/stop' : ''} {scan_type: ${scanType}}`,
  ok: 202,
  async run(f, role) {
    const digest = stop ? await scannedImage(f, scanType) : await freshImage(f);
    const path = `${artifacts(f)}/${digest}/scan${stop ? '/stop' : ''}`;
    return f.as(role).call('POST', path, { scan_type: scanType });
  },
});

/** An export execution of the role's own user in the fixture project, stored as `start` stores one. */
async function ownExport(f: Fixture, role: Who): Promise<number> {
  const me = await f.as(role).expect<{ user_id: number; username: string }>(200, 'GET', '/users/current');
  const attrs = { project_ids: [f.pid], job_name: '', user_name: me.body.username };
  const row = await f.berth.app.store
    .executions(SCAN_EXPORT_VENDOR)
    .create(me.body.user_id, 'MANUAL', new Date().toISOString(), attrs, 'Pending');
  return row.id;
}

export const scanProbes: Probe[] = [
  scanCall('vulnerability', false),
  scanCall('vulnerability', true),
  scanCall('sbom', false),
  scanCall('sbom', true),
  {
    key: 'scan:read',
    call: 'GET .../artifacts/{digest}/scan/{report_id}/log',
    ok: 200,
    async run(f, role) {
      const digest = await scannedImage(f, 'vulnerability');
      const report = await reportOf(f, digest);
      return f.as(role).call('GET', `${artifacts(f)}/${digest}/scan/${report}/log`);
    },
  },
  {
    key: 'export-cve:create',
    call: 'POST /export/cve {projects: [{id}]}',
    ok: 200,
    run: (f, role) =>
      f.as(role).call('POST', '/export/cve', { projects: [f.pid] }, { 'X-Scan-Data-Type': REPORT_MIME_TYPE }),
  },
  {
    key: 'export-cve:read',
    call: "GET /export/cve/execution/{id} (the caller's own)",
    ok: 200,
    async run(f, role) {
      return f.as(role).call('GET', `/export/cve/execution/${await ownExport(f, role)}`);
    },
  },
];
