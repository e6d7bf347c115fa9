import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { MetaStore } from '../../../src/db/store.js';
import { REPORT_MIME_TYPE, type VulnerabilityReport } from '../../../src/services/scanning/builtin/report.js';
import { BUILTIN_SCANNER_UUID } from '../../../src/services/scanning/scanner.js';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { makeImage, RegistryClient } from '../../helpers/registry-client.js';
import { waitFor } from '../../helpers/wait.js';

type Vuln = { id: string; pkg: string; severity: 'Critical' | 'High' | 'Medium' | 'Low'; score?: number };
const code = { Critical: 5, High: 4, Medium: 3, Low: 2 } as const;

/** A succeeded report of the built-in scanner for `digest`, written as the scan job writes it. */
async function seedReport(store: MetaStore, digest: string, vulns: Vuln[]): Promise<void> {
  const now = new Date().toISOString();
  const row = await store.scanReports.create(
    {
      uuid: `r-${digest.slice(7, 19)}`,
      digest,
      registrationUuid: BUILTIN_SCANNER_UUID,
      mimeType: REPORT_MIME_TYPE,
    },
    now,
  );
  const report: VulnerabilityReport = {
    generated_at: now,
    artifact: { repository: '', digest, mime_type: '' },
    scanner: { name: 'Berth', vendor: 'Berth', version: '1.0' },
    severity: vulns[0]?.severity ?? 'None',
    vulnerabilities: vulns.map((v) => ({
      id: v.id,
      package: v.pkg,
      version: '1.0',
      fix_version: '1.1',
      severity: v.severity,
      description: `${v.id} in ${v.pkg}`,
      links: [`https://avd.example/${v.id}`],
      cwe_ids: ['CWE-79'],
      vendor_attributes: v.score ? { CVSS: { osv: { V3Score: v.score } } } : {},
      ...(v.score ? { preferred_cvss: { score_v3: v.score } } : {}),
    })),
  } as VulnerabilityReport;
  const count = (s: string) => vulns.filter((v) => v.severity === s).length;
  await store.scanReports.finish(
    row.id,
    {
      status: 'Success',
      severity: report.severity,
      counts: {
        critical: count('Critical'),
        high: count('High'),
        medium: count('Medium'),
        low: count('Low'),
        none: 0,
        unknown: 0,
        fixable: vulns.length,
        total: vulns.length,
      },
      scanner: JSON.stringify(report.scanner),
      report: JSON.stringify(report),
      log: '',
      endTime: now,
    },
    vulns.map((v) => ({
      cve_id: v.id,
      package: v.pkg,
      version: '1.0',
      fix_version: '1.1',
      severity: v.severity,
      severity_code: code[v.severity],
      cvss_score_v3: v.score ?? null,
      cvss_score_v2: null,
      description: `${v.id} in ${v.pkg}`,
      links: JSON.stringify([`https://avd.example/${v.id}`]),
    })),
  );
}

type Item = {
  cve_id: string;
  repository_name: string;
  digest: string;
  cvss_v3_score: number;
  tags?: string[];
};

for (const backend of backends()) {
  describe(`security hub and scan data export (${backend})`, () => {
    let berth: RunningBerth;
    let api: HarborApi;
    let projectId: number;
    const app = makeImage();
    const web = makeImage();
    const idle = makeImage();

    before(async () => {
      berth = await startBerth({ backend });
      api = new HarborApi(berth.url);
      const client = new RegistryClient(berth.url);
      await api.expect(201, 'POST', '/projects', { project_name: 'p' });
      projectId = (await berth.app.store.projects.findByName('p'))!.id;
      await client.pushImage('p/app', app, 'v1');
      await client.pushImage('p/web', web, 'v2');
      await client.pushImage('p/idle', idle, 'v3');
      const store = berth.app.store;
      await seedReport(store, app.digest, [
        { id: 'CVE-2024-0001', pkg: 'libssl3', severity: 'Critical', score: 9.8 },
        { id: 'CVE-2024-0002', pkg: 'bash', severity: 'High', score: 7.5 },
      ]);
      await seedReport(store, web.digest, [
        { id: 'CVE-2024-0002', pkg: 'bash', severity: 'High', score: 7.5 },
        { id: 'CVE-2024-0003', pkg: 'zlib', severity: 'Low' },
      ]);
      await api.expect(201, 'POST', '/users', {
        username: 'eve',
        email: 'eve@example.com',
        realname: 'Eve',
        password: 'Eve-Pass1234',
      });
      await api.expect(201, 'POST', '/projects/p/members', { role_id: 1, member_user: { username: 'eve' } });
    });
    after(() => berth.close());

    test('the summary counts every artifact and report, with the most dangerous CVEs and artifacts', async () => {
      const { body } = await api.expect<Record<string, unknown>>(
        200,
        'GET',
        '/security/summary?with_dangerous_cve=true&with_dangerous_artifact=true',
      );
      assert.deepEqual(
        {
          ...body,
          dangerous_cves: (body.dangerous_cves as { cve_id: string; cvss_score_v3: number }[]).map((c) => [
            c.cve_id,
            c.cvss_score_v3,
          ]),
        },
        {
          critical_cnt: 1,
          high_cnt: 2,
          medium_cnt: 0,
          low_cnt: 1,
          none_cnt: 0,
          unknown_cnt: 0,
          total_vuls: 4,
          scanned_cnt: 2,
          total_artifact: 3,
          fixable_cnt: 4,
          dangerous_cves: [
            ['CVE-2024-0001', 9.8],
            ['CVE-2024-0002', 7.5],
          ],
          dangerous_artifacts: [
            {
              project_id: projectId,
              repository_name: 'p/app',
              digest: app.digest,
              critical_cnt: 1,
              high_cnt: 1,
              medium_cnt: 0,
            },
            {
              project_id: projectId,
              repository_name: 'p/web',
              digest: web.digest,
              critical_cnt: 0,
              high_cnt: 1,
              medium_cnt: 0,
            },
          ],
        },
      );
      const plain = await api.expect<Record<string, unknown>>(200, 'GET', '/security/summary');
      assert.equal(plain.body.dangerous_cves, undefined);
    });

    test("the vulnerability list: highest CVSS first, Harbor's q filters, paging, tags", async () => {
      const all = await api.expect<Item[]>(200, 'GET', '/security/vul?with_tag=true');
      assert.equal(all.headers.get('x-total-count'), '4');
      assert.deepEqual(
        all.body.map((v) => [v.cve_id, v.repository_name, v.cvss_v3_score, v.tags]),
        [
          ['CVE-2024-0001', 'p/app', 9.8, ['v1']],
          ['CVE-2024-0002', 'p/app', 7.5, ['v1']],
          ['CVE-2024-0002', 'p/web', 7.5, ['v2']],
          ['CVE-2024-0003', 'p/web', 0, ['v2']],
        ],
      );
      const count = async (q: string) =>
        (await api.expect<Item[]>(200, 'GET', `/security/vul?q=${encodeURIComponent(q)}`)).headers.get(
          'x-total-count',
        );
      assert.equal(await count('cve_id=CVE-2024-0002'), '2');
      assert.equal(await count('severity=Critical'), '1');
      assert.equal(await count('cvss_score_v3=[7~8]'), '2');
      assert.equal(await count('cvss_score_v3=[7.6~10]'), '1');
      assert.equal(await count('repository_name=p/web'), '2');
      assert.equal(await count('package=bash'), '2');
      assert.equal(await count('tag=v1'), '2');
      assert.equal(await count(`digest=${web.digest}`), '2');
      assert.equal(await count(`project_id=${projectId}`), '4');
      assert.equal(await count(`project_id=${projectId + 100}`), '0');
      const page = await api.expect<Item[]>(200, 'GET', '/security/vul?page=2&page_size=1');
      assert.deepEqual(
        page.body.map((v) => v.cve_id),
        ['CVE-2024-0002'],
      );
      assert.match(page.headers.get('link') ?? '', /rel="prev".*rel="next"/);
      const tuned = await api.expect<Item[]>(200, 'GET', '/security/vul?tune_count=true');
      assert.equal(tuned.headers.get('x-total-count'), '4');
      await api.expectError(400, 'BAD_REQUEST', 'GET', `/security/vul?q=${encodeURIComponent('nope=1')}`);
    });

    test('only system administrators read the security hub', async () => {
      await api.anonymous().expectError(401, 'UNAUTHORIZED', 'GET', '/security/summary');
      await api.as('eve', 'Eve-Pass1234').expectError(403, 'FORBIDDEN', 'GET', '/security/summary');
      await api.as('eve', 'Eve-Pass1234').expectError(403, 'FORBIDDEN', 'GET', '/security/vul');
    });

    test('scan data export: validation, a CSV job, only its owner sees and downloads it, once', async () => {
      const type = { 'X-Scan-Data-Type': REPORT_MIME_TYPE };
      await api.expectError(400, 'BAD_REQUEST', 'POST', '/export/cve', { projects: [projectId] });
      await api.expectError(400, 'BAD_REQUEST', 'POST', '/export/cve', { projects: [] }, type);
      await api.expectError(404, 'NOT_FOUND', 'POST', '/export/cve', { projects: [projectId + 100] }, type);
      await api.expectError(
        400,
        'BAD_REQUEST',
        'POST',
        '/export/cve',
        { projects: [projectId], tags: 'v1 v2' },
        type,
      );
      const eve = api.as('eve', 'Eve-Pass1234');
      const started = await eve.expect<{ id: number }>(
        200,
        'POST',
        '/export/cve',
        { job_name: 'weekly', projects: [projectId], cveIds: '{CVE-2024-0001,CVE-2024-0002}' },
        type,
      );
      const id = started.body.id;
      const done = await waitFor('the export to finish', async () => {
        const e = await eve.expect<{ status: string; file_present: boolean; user_name: string }>(
          200,
          'GET',
          `/export/cve/execution/${id}`,
        );
        return e.body.status === 'Success' && e.body;
      });
      assert.deepEqual([done.user_name, done.file_present], ['eve', true]);
      const list = await eve.expect<{ items: { id: number }[] }>(200, 'GET', '/export/cve/executions');
      assert.deepEqual(
        list.body.items.map((e) => e.id),
        [id],
      );
      const adminList = await api.expect<{ items: unknown[] }>(200, 'GET', '/export/cve/executions');
      assert.deepEqual(adminList.body.items, []);
      await api.expectError(403, 'FORBIDDEN', 'GET', `/export/cve/execution/${id}`);
      assert.equal((await api.call('GET', `/export/cve/download/${id}`)).status, 403);
      const csv = await eve.expect<string>(200, 'GET', `/export/cve/download/${id}`);
      assert.equal(
        csv.headers.get('content-disposition'),
        `attachment; filename="scandata_export_${id}.csv"`,
      );
      const lines = csv.text.trim().split('\n');
      assert.equal(
        lines[0],
        'Repository,Artifact Digest,CVE,Package,Current Version,Fixed in version,Severity,CWE Ids,Additional Data,Scanner',
      );
      assert.deepEqual(lines.slice(1).sort(), [
        `p/app,${app.digest},CVE-2024-0001,libssl3,1.0,1.1,Critical,CWE-79,"{""CVSS"":{""osv"":{""V3Score"":9.8}}}",Berth`,
        `p/app,${app.digest},CVE-2024-0002,bash,1.0,1.1,High,CWE-79,"{""CVSS"":{""osv"":{""V3Score"":7.5}}}",Berth`,
        `p/web,${web.digest},CVE-2024-0002,bash,1.0,1.1,High,CWE-79,"{""CVSS"":{""osv"":{""V3Score"":7.5}}}",Berth`,
      ]);
      // Downloaded once: the file and the execution are gone, as in Harbor.
      await waitFor(
        'the execution to be removed',
        async () => (await eve.call('GET', `/export/cve/execution/${id}`)).status === 404,
      );
      assert.equal((await eve.call('GET', `/export/cve/download/${id}`)).status, 404);
    });

    test('an export narrowed by tag pattern', async () => {
      const type = { 'X-Scan-Data-Type': REPORT_MIME_TYPE };
      const { body } = await api.expect<{ id: number }>(
        200,
        'POST',
        '/export/cve',
        { projects: [projectId], tags: 'v2', repositories: '**' },
        type,
      );
      await waitFor('the export', async () => {
        const e = await api.expect<{ status: string }>(200, 'GET', `/export/cve/execution/${body.id}`);
        return e.body.status === 'Success';
      });
      const csv = await api.expect<string>(200, 'GET', `/export/cve/download/${body.id}`);
      const rows = csv.text.trim().split('\n').slice(1);
      assert.deepEqual(
        rows.map((r) => r.split(',').slice(0, 3).join(' ')),
        [`p/web ${web.digest} CVE-2024-0002`, `p/web ${web.digest} CVE-2024-0003`],
      );
      await waitFor(
        'the execution to be removed',
        async () => (await api.call('GET', `/export/cve/execution/${body.id}`)).status === 404,
      );
    });
  });
}
