// Vulnerability scanning (issue 17) through the API with the built-in scanner: a real image (a dpkg status
// file) scanned against the committed Debian 12 OSV fixture; Harbor's scan_overview, the report addition,
// the log; an index scanned child by child; a result reused across projects; stopping a queued scan.
import assert from 'node:assert/strict';
import { describe, test, before } from 'node:test';
import { importVulnDb } from '../../../src/services/scanning/builtin/vulndb-import.js';
import { backends, testAdmin } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { startPreheatProviderStub } from '../../helpers/preheat-provider.js';
import { makeIndex, useBerth } from '../../helpers/registry-client.js';
import { CLEAN_PACKAGES, VULNERABLE_PACKAGES, debianImage } from '../../helpers/scan-images.js';
import { DEBIAN12_FIXTURE_DIR } from '../../helpers/vulndb.js';
import { waitFor } from '../../helpers/wait.js';

const MIME = 'application/vnd.security.vulnerability.report; version=1.1';
const basic = `Basic ${Buffer.from(`${testAdmin.username}:${testAdmin.password}`).toString('base64')}`;

interface Overview {
  report_id: string;
  scan_status: string;
  severity: string;
  duration: number;
  summary: { total: number; fixable: number; summary: Record<string, number> } | null;
  start_time: string;
  end_time: string;
  complete_percent: number;
  scanner?: { name: string; vendor: string; version: string };
}
type Artifact = { digest: string; scan_overview?: Record<string, Overview> };

const artifactPath = (project: string, repo: string, ref: string) =>
  `/projects/${project}/repositories/${encodeURIComponent(repo)}/artifacts/${ref}`;

async function overview(api: HarborApi, project: string, repo: string, ref: string) {
  const res = await api.expect<Artifact>(
    200,
    'GET',
    `${artifactPath(project, repo, ref)}?with_scan_overview=true`,
  );
  return res.body.scan_overview?.[MIME];
}

async function scanned(api: HarborApi, project: string, repo: string, ref: string) {
  return waitFor(
    `scan of ${project}/${repo}:${ref}`,
    async () => {
      const o = await overview(api, project, repo, ref);
      return o && ['Success', 'Error'].includes(o.scan_status) && o.complete_percent === 100 ? o : undefined;
    },
    60_000,
    100,
  );
}

for (const backend of backends()) {
  describe(`scanning through the API (${backend})`, () => {
    const f = useBerth(backend);
    let api: HarborApi;
    before(async () => {
      api = new HarborApi(f.berth.url);
      await importVulnDb({ store: f.berth.app.store }, DEBIAN12_FIXTURE_DIR);
    });

    test('a scan answers 202 and fills Harbor scan_overview, the vulnerabilities addition and the log', async () => {
      const image = debianImage(VULNERABLE_PACKAGES, 'one');
      await f.client.pushImage('scan1/app', image, 'v1');
      // Not scanned yet: Harbor leaves `scan_overview` out (omitempty), in the artifact and in listings.
      const unscanned = await api.expect<Record<string, unknown>>(
        200,
        'GET',
        `${artifactPath('scan1', 'app', 'v1')}?with_scan_overview=true`,
      );
      assert.equal('scan_overview' in unscanned.body, false);
      const listedBefore = await api.expect<Record<string, unknown>[]>(
        200,
        'GET',
        `/projects/scan1/repositories/app/artifacts?with_scan_overview=true`,
      );
      assert.equal('scan_overview' in listedBefore.body[0]!, false);
      await api.expect(202, 'POST', `${artifactPath('scan1', 'app', 'v1')}/scan`);
      const o = await scanned(api, 'scan1', 'app', 'v1');
      assert.equal(o.scan_status, 'Success');
      assert.equal(o.severity, 'Critical');
      assert.deepEqual(o.summary, { total: 2, fixable: 2, summary: { Critical: 1, High: 1 } });
      assert.deepEqual(o.scanner, { name: 'Berth', vendor: 'Berth', version: '1.0' });
      assert.match(o.report_id, /^[0-9a-f-]{36}$/);
      assert.ok(Date.parse(o.end_time) >= Date.parse(o.start_time));

      const add = await api.expect<
        Record<
          string,
          { severity: string; vulnerabilities: { id: string; package: string; fix_version: string }[] }
        >
      >(200, 'GET', `${artifactPath('scan1', 'app', 'v1')}/additions/vulnerabilities`);
      const report = add.body[MIME]!;
      assert.equal(report.severity, 'Critical');
      assert.deepEqual(
        report.vulnerabilities.map((v) => `${v.id} ${v.package} ${v.fix_version}`),
        ['CVE-2025-6965 libsqlite3-0 3.40.1-2+deb12u3', 'CVE-2022-3715 bash 5.2.15-3'],
      );

      const log = await api.expect(
        200,
        'GET',
        `${artifactPath('scan1', 'app', 'v1')}/scan/${o.report_id}/log`,
      );
      assert.match(log.text, /scan completed/);
      await api.expect(
        404,
        'GET',
        `${artifactPath('scan1', 'app', 'v1')}/scan/00000000-0000-4000-8000-000000000000/log`,
      );

      // The listing shows the same overview.
      const list = await api.expect<Artifact[]>(
        200,
        'GET',
        `/projects/scan1/repositories/app/artifacts?with_scan_overview=true`,
      );
      assert.equal(list.body[0]!.scan_overview?.[MIME]?.report_id, o.report_id);
    });

    test('a rescan reads no layer again: its log says so, and its report is the same', async () => {
      await f.client.pushImage('scan-again/app', debianImage(VULNERABLE_PACKAGES, 'again'), 'v1');
      const path = artifactPath('scan-again', 'app', 'v1');
      const scanLog = async () => {
        await api.expect(202, 'POST', `${path}/scan`);
        const o = await scanned(api, 'scan-again', 'app', 'v1');
        assert.equal(o.scan_status, 'Success');
        const add = await api.expect<Record<string, { vulnerabilities: unknown[] }>>(
          200,
          'GET',
          `${path}/additions/vulnerabilities`,
        );
        const log = await api.expect(200, 'GET', `${path}/scan/${o.report_id}/log`);
        return { log: log.text, vulnerabilities: add.body[MIME]!.vulnerabilities };
      };
      const first = await scanLog();
      assert.match(first.log, /read \d+ layers \(0 of them as read by an earlier scan\)/);
      const again = await scanLog();
      const [, layers, cached] = /read (\d+) layers \((\d+) of them as read by an earlier scan\)/.exec(
        again.log,
      )!;
      assert.ok(Number(layers) > 0);
      assert.equal(cached, layers);
      assert.deepEqual(again.vulnerabilities, first.vulnerabilities);
    });

    test('the result is reused by the same digest in another project, without a scan', async () => {
      const image = debianImage(VULNERABLE_PACKAGES, 'shared');
      await f.client.pushImage('scan2/app', image, 'v1');
      await api.expect(202, 'POST', `${artifactPath('scan2', 'app', 'v1')}/scan`);
      const first = await scanned(api, 'scan2', 'app', 'v1');
      await f.client.pushImage('scan3/elsewhere', image, 'latest');
      const again = await overview(api, 'scan3', 'elsewhere', 'latest');
      assert.equal(again?.report_id, first.report_id);
      assert.equal(again?.scan_status, 'Success');
    });

    test('an index is scanned child by child; its overview merges them as Harbor does', async () => {
      const a = debianImage(VULNERABLE_PACKAGES, 'child-a');
      const b = debianImage(CLEAN_PACKAGES, 'child-b');
      await f.client.pushImage('scan4/multi', a);
      await f.client.pushImage('scan4/multi', b);
      const index = makeIndex([a, b]);
      await f.client.putManifest('scan4/multi', index, 'v1');
      await api.expect(202, 'POST', `${artifactPath('scan4', 'multi', 'v1')}/scan`);
      const o = await scanned(api, 'scan4', 'multi', 'v1');
      assert.equal(o.scan_status, 'Success');
      assert.equal(o.severity, 'Critical');
      assert.equal(o.summary?.total, 2);
      const ids = Buffer.from(o.report_id, 'base64').toString().split('|');
      assert.equal(ids.length, 2);
      const childB = await overview(api, 'scan4', 'multi', b.digest);
      assert.equal(childB?.severity, 'None');
      assert.deepEqual(childB?.summary, { total: 0, fixable: 0, summary: {} });
      const log = await api.expect(
        200,
        'GET',
        `${artifactPath('scan4', 'multi', 'v1')}/scan/${encodeURIComponent(o.report_id)}/log`,
      );
      assert.equal(log.text.match(/---------- Logs of report/g)?.length, 2);
    });

    test('scan_type sbom stores an SPDX SBOM listing the image packages as its accessory, found by referrers and pulled back', async () => {
      const image = debianImage(VULNERABLE_PACKAGES, 'sbom');
      await f.client.pushImage('sbom1/app', image, 'v1');
      await api.expect(202, 'POST', `${artifactPath('sbom1', 'app', 'v1')}/scan`, { scan_type: 'sbom' });
      type SbomArtifact = {
        sbom_overview?: { scan_status: string; sbom_digest?: string; report_id: string; duration: number };
        scan_overview?: Record<string, unknown>;
        addition_links?: Record<string, { href: string }>;
        accessories?: { digest: string; type: string }[] | null;
      };
      const o = await waitFor(
        'the SBOM',
        async () => {
          const a = await api.expect<SbomArtifact>(
            200,
            'GET',
            `${artifactPath('sbom1', 'app', 'v1')}?with_sbom_overview=true&with_scan_overview=true`,
          );
          const s = a.body.sbom_overview;
          return s && !['Pending', 'Running'].includes(s.scan_status) ? a.body : undefined;
        },
        60_000,
        100,
      );
      assert.equal(o.sbom_overview!.scan_status, 'Success');
      // An SBOM scan is no vulnerability scan: the image has no vulnerability report.
      assert.equal(o.scan_overview?.[MIME], undefined);
      const sbomDigest = o.sbom_overview!.sbom_digest!;
      assert.match(sbomDigest, /^sha256:[0-9a-f]{64}$/);

      // oras discover's call finds it under Harbor's artifact type.
      const referrers = (await (await f.client.fetch(`/v2/sbom1/app/referrers/${image.digest}`)).json()) as {
        manifests: { digest: string; artifactType: string }[];
      };
      assert.deepEqual(referrers.manifests, [
        {
          ...referrers.manifests[0],
          digest: sbomDigest,
          artifactType: 'application/vnd.goharbor.harbor.sbom.v1',
        },
      ]);

      // Pulled back like any artifact: the manifest names the image as subject, its one layer is the SPDX document.
      const res = await f.client.fetch(`/v2/sbom1/app/manifests/${sbomDigest}`, {
        headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
      });
      assert.equal(res.status, 200);
      const manifest = (await res.json()) as { subject: { digest: string }; layers: { digest: string }[] };
      assert.equal(manifest.subject.digest, image.digest);
      assert.equal(manifest.layers.length, 1);
      const blob = await f.client.fetch(`/v2/sbom1/app/blobs/${manifest.layers[0]!.digest}`);
      type Spdx = {
        spdxVersion: string;
        packages: { name: string; versionInfo?: string; externalRefs?: { referenceLocator: string }[] }[];
      };
      const spdx = (await blob.json()) as Spdx;
      assert.equal(spdx.spdxVersion, 'SPDX-2.3');
      const packages = spdx.packages.map((p) => `${p.name} ${p.versionInfo}`);
      for (const p of VULNERABLE_PACKAGES)
        assert.ok(packages.includes(`${p.name} ${p.version}`), packages.join());
      const bash = spdx.packages.find((p) => p.name === 'bash')!;
      assert.ok(
        bash.externalRefs?.some((r) => r.referenceLocator.startsWith('pkg:deb/debian/bash@')),
        JSON.stringify(bash.externalRefs),
      );

      // The accessory's sbom addition returns the same document.
      const addition = await api.expect(
        200,
        'GET',
        `${artifactPath('sbom1', 'app', sbomDigest)}/additions/sbom`,
      );
      assert.deepEqual(JSON.parse(addition.text), spdx);
    });

    test('auto_scan scans a pushed artifact without being asked', async () => {
      await f.berth.createProject('auto1');
      await api.expect(200, 'POST', '/projects/auto1/metadatas', { auto_scan: 'true' });
      await f.client.pushImage('auto1/app', debianImage(VULNERABLE_PACKAGES, 'auto'), 'v1');
      const o = await scanned(api, 'auto1', 'app', 'v1');
      assert.equal(o.severity, 'Critical');
    });

    test('prevent_vul refuses pulls (412 PROJECTPOLICYVIOLATION) until the CVE allowlist exempts them', async () => {
      await f.berth.createProject('block1');
      await api.expect(200, 'POST', '/projects/block1/metadatas', { prevent_vul: 'true', severity: 'high' });
      await f.client.pushImage('block1/app', debianImage(VULNERABLE_PACKAGES, 'block'), 'v1');
      const pull = () =>
        f.client.fetch('/v2/block1/app/manifests/v1', {
          headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
        });
      const refusal = async (res: Response) => {
        const body = (await res.json()) as { errors: { code: string; message: string }[] };
        return `${res.status} ${body.errors[0]!.code} ${body.errors[0]!.message}`;
      };
      const policy = `due to configured policy in 'Prevent images with vulnerability severity of "High" or higher from running.' `;
      // The policy's project list is refreshed every few seconds.
      const unscanned = await waitFor('the policy to apply', async () => {
        const res = await pull();
        if (res.status === 200) return void (await res.body?.cancel());
        return refusal(res);
      });
      assert.equal(
        unscanned,
        `412 PROJECTPOLICYVIOLATION current image without vulnerability scanning cannot be pulled ${policy}To continue with pull, please contact your project administrator for help.`,
      );
      await api.expect(202, 'POST', `${artifactPath('block1', 'app', 'v1')}/scan`);
      await scanned(api, 'block1', 'app', 'v1');
      assert.equal(
        await refusal(await pull()),
        `412 PROJECTPOLICYVIOLATION current image with 2 vulnerabilities cannot be pulled ${policy}To continue with pull, please contact your project administrator to exempt matched vulnerabilities through configuring the CVE allowlist.`,
      );
      // Exempting the Critical one leaves the High one, still at the threshold.
      await api.expect(200, 'PUT', '/system/CVEAllowlist', { items: [{ cve_id: 'CVE-2025-6965' }] });
      assert.match(await refusal(await pull()), /current image with 1 vulnerability cannot be pulled/);
      await api.expect(200, 'PUT', '/system/CVEAllowlist', {
        expires_at: null,
        items: [{ cve_id: 'CVE-2025-6965' }, { cve_id: 'CVE-2022-3715' }],
      });
      const allowed = await pull();
      await allowed.body?.cancel();
      assert.equal(allowed.status, 200);
      const list = await api.expect<{ items: { cve_id: string }[]; expires_at: number | null }>(
        200,
        'GET',
        '/system/CVEAllowlist',
      );
      assert.deepEqual(
        list.body.items.map((i) => i.cve_id),
        ['CVE-2025-6965', 'CVE-2022-3715'],
      );
      // An expired allowlist exempts nothing.
      await api.expect(200, 'PUT', '/system/CVEAllowlist', { ...list.body, expires_at: 1_000_000 });
      assert.equal((await pull()).status, 412);
      await api.expect(200, 'PUT', '/system/CVEAllowlist', { items: [] });
      // HEAD is not judged (Harbor's middleware guards GET).
      const head = await f.client.fetch('/v2/block1/app/manifests/v1', { method: 'HEAD' });
      assert.equal(head.status, 200);
    });

    test('a project CVE allowlist set by PUT /projects/{id} is shown by GET and list, and exempts its pulls and preheats', async (t) => {
      const id = await f.berth.createProject('allow1');
      await api.expect(200, 'PUT', '/projects/allow1', {
        metadata: { prevent_vul: 'true', severity: 'high' },
      });
      await f.client.pushImage('allow1/app', debianImage(VULNERABLE_PACKAGES, 'allow'), 'v1');
      await api.expect(202, 'POST', `${artifactPath('allow1', 'app', 'v1')}/scan`);
      await scanned(api, 'allow1', 'app', 'v1');
      const pull = async () => {
        const res = await f.client.fetch('/v2/allow1/app/manifests/v1', {
          headers: { accept: 'application/vnd.oci.image.manifest.v1+json' },
        });
        await res.body?.cancel();
        return res.status;
      };
      await waitFor('the policy to apply', async () => ((await pull()) === 412 ? true : undefined));
      // P2P preheat's vulnerability criterion (the project's prevent_vul + severity) judges the same way.
      const stub = await startPreheatProviderStub(basic);
      t.after(() => stub.close());
      await api.expect(201, 'POST', '/p2p/preheat/instances', {
        ...{ name: 'kr-allow1', vendor: 'kraken', endpoint: `${stub.url}/kr` },
        ...{ auth_mode: 'NONE', enabled: true },
      });
      const instance = await api.expect<{ id: number }>(200, 'GET', '/p2p/preheat/instances/kr-allow1');
      await api.expect(201, 'POST', '/projects/allow1/preheat/policies', {
        ...{ name: 'all', provider_id: instance.body.id, enabled: true },
        filters: JSON.stringify([
          { type: 'repository', value: '**' },
          { type: 'tag', value: '**' },
        ]),
        trigger: JSON.stringify({ type: 'manual', trigger_setting: { cron: '' } }),
      });
      const preheated = async () => {
        const run = await api.expect(201, 'POST', '/projects/allow1/preheat/policies/all', {});
        const e = await api.expect<{ extra_attrs: { totalCount: number } }>(
          200,
          'GET',
          `/projects/allow1/preheat/policies/all/executions/${run.headers.get('location')!.split('/').at(-1)}`,
        );
        return e.body.extra_attrs.totalCount;
      };
      assert.equal(await preheated(), 0, 'a Critical CVE keeps v1 from being preheated');
      type Project = {
        project_id: number;
        name: string;
        cve_allowlist: { id: number; project_id: number; expires_at?: number; items: { cve_id: string }[] };
      };
      // A project never given one has an empty list that never expires.
      const before = await api.expect<Project>(200, 'GET', `/projects/${id}`);
      assert.deepEqual(before.body.cve_allowlist.items, []);
      assert.equal(before.body.cve_allowlist.project_id, id);
      assert.equal(before.body.cve_allowlist.expires_at, undefined);

      const both = [{ cve_id: 'CVE-2025-6965' }, { cve_id: ' CVE-2022-3715 ' }];
      const refused = await api.expect<{ errors: { code: string; message: string }[] }>(
        400,
        'PUT',
        `/projects/${id}`,
        { cve_allowlist: { project_id: id + 1000, items: both } },
      );
      assert.equal(
        refused.body.errors[0]!.message,
        `project_id in cve_allowlist must be ${id} but it's ${id + 1000}`,
      );
      // The project's own list is stored, but pulls use the system's until reuse_sys_cve_allowlist is "false".
      await api.expect(200, 'PUT', `/projects/${id}`, { cve_allowlist: { project_id: 0, items: both } });
      assert.equal(await pull(), 412);
      await api.expect(200, 'PUT', `/projects/${id}`, {
        metadata: { reuse_sys_cve_allowlist: 'false' },
      });
      assert.equal(await pull(), 200);
      assert.equal(await preheated(), 1, 'with both CVEs exempted, preheat takes v1 as Harbor does');
      const got = await api.expect<Project>(200, 'GET', '/projects/allow1');
      assert.deepEqual(got.body.cve_allowlist.items, [
        { cve_id: 'CVE-2025-6965' },
        { cve_id: 'CVE-2022-3715' },
      ]);
      assert.ok(got.body.cve_allowlist.id > 0);
      const listed = await api.expect<Project[]>(200, 'GET', '/projects?name=allow1');
      assert.deepEqual(listed.body[0]!.cve_allowlist.items, got.body.cve_allowlist.items);
      // An expired project list exempts nothing; the system list is not consulted meanwhile.
      await api.expect(200, 'PUT', '/system/CVEAllowlist', { items: both });
      await api.expect(200, 'PUT', `/projects/${id}`, {
        cve_allowlist: { ...got.body.cve_allowlist, expires_at: 1_000_000 },
      });
      assert.equal(
        (await api.expect<Project>(200, 'GET', `/projects/${id}`)).body.cve_allowlist.expires_at,
        1_000_000,
      );
      assert.equal(await pull(), 412);
      await api.expect(200, 'PUT', '/system/CVEAllowlist', { items: [] });
      await api.expect(400, 'PUT', `/projects/${id}`, { cve_allowlist: { items: [{ cve_id: ' ' }] } });
      // Deleting the project takes its allowlist along.
      await api.expect(200, 'DELETE', '/projects/allow1/repositories/app');
      await api.expect(200, 'DELETE', `/projects/${id}`);
      assert.equal(await f.berth.app.store.cveAllowlists.get(id), undefined);
    });

    test('an artifact the scanner cannot read is refused with 400; a missing one 404', async () => {
      const index = makeIndex([]);
      await f.client.putManifest('scan5/empty', index, 'v1');
      const res = await api.expect<{ errors: { code: string; message: string }[] }>(
        400,
        'POST',
        `${artifactPath('scan5', 'empty', 'v1')}/scan`,
      );
      assert.match(res.body.errors[0]!.message, /does not support scanning artifact with mime type/);
      await api.expect(404, 'POST', `${artifactPath('scan5', 'empty', 'nope')}/scan`);
    });
  });

  describe(`stopping a queued scan (${backend}, no workers)`, () => {
    const f = useBerth(backend, { overrides: { jobs: { workers: 0 } } });

    test('a queued scan is Pending, a second scan conflicts, stop makes it Stopped, a new scan may start', async () => {
      const api = new HarborApi(f.berth.url);
      await f.client.pushImage('stop1/app', debianImage(VULNERABLE_PACKAGES, 'stop'), 'v1');
      const path = artifactPath('stop1', 'app', 'v1');
      await api.expect(400, 'POST', `${path}/scan/stop`);
      await api.expect(202, 'POST', `${path}/scan`);
      assert.equal((await overview(api, 'stop1', 'app', 'v1'))?.scan_status, 'Pending');
      const conflict = await api.expect<{ errors: { code: string; message: string }[] }>(
        409,
        'POST',
        `${path}/scan`,
      );
      assert.equal(conflict.body.errors[0]!.message, 'a previous scan process is Pending');
      await api.expect(202, 'POST', `${path}/scan/stop`);
      const o = await overview(api, 'stop1', 'app', 'v1');
      assert.equal(o?.scan_status, 'Stopped');
      assert.equal(o?.summary, null);
      await api.expect(202, 'POST', `${path}/scan`);
    });
  });
}
