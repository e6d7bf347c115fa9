import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { VulnerabilityReport } from '../../../src/services/scanning/builtin/report.js';
import { importVulnDb } from '../../../src/services/scanning/builtin/vulndb-import.js';
import { BUILTIN_SCANNER_UUID, type ScanTarget } from '../../../src/services/scanning/scanner.js';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { clientFor, makeImage, type Manifest } from '../../helpers/registry-client.js';
import { startTestAdapter, type TestAdapter } from '../../helpers/scanner-adapter.js';
import { waitFor } from '../../helpers/wait.js';
import { BOOKWORM_EXPECTED, bookwormImage, DEBIAN12_FIXTURE_DIR } from '../../helpers/vulndb.js';

interface Registration {
  uuid: string;
  name: string;
  url: string;
  is_default: boolean;
  disabled: boolean;
  auth: string;
  access_credential?: string;
  health?: string;
  capabilities?: Record<string, boolean>;
}

const target = (repository: string, m: Manifest, projectId: number): ScanTarget => ({
  projectId,
  repository,
  digest: m.digest,
  mediaType: m.mediaType,
  tag: 'v1',
});

for (const backend of backends()) {
  describe(`scanner registrations and scanners (${backend})`, () => {
    let berth: RunningBerth;
    let api: HarborApi;
    let adapter: TestAdapter;
    before(async () => {
      berth = await startBerth({ backend });
      api = new HarborApi(berth.url);
      adapter = await startTestAdapter({ apiKey: 'k-123', otherRepository: 'other/app' });
      await api.expect(201, 'POST', '/projects', { project_name: 'scan' });
      await api.expect(201, 'POST', '/users', {
        username: 'dev',
        email: 'dev@example.com',
        realname: 'Dev',
        password: 'Dev-User-1234',
      });
    });
    after(async () => {
      await adapter.close();
      await berth.close();
    });

    test('the built-in scanner is registered as the default and can be neither changed nor deleted', async () => {
      const list = await api.expect<Registration[]>(200, 'GET', '/scanners');
      assert.equal(list.headers.get('x-total-count'), '1');
      assert.deepEqual(
        list.body.map((r) => [r.uuid, r.name, r.is_default, r.disabled, r.capabilities]),
        [[BUILTIN_SCANNER_UUID, 'Berth', true, false, { support_vulnerability: true, support_sbom: true }]],
      );
      const one = await api.expect<Registration>(200, 'GET', `/scanners/${BUILTIN_SCANNER_UUID}`);
      assert.equal(one.body.name, 'Berth');
      assert.equal(
        await api.expectError(403, 'FORBIDDEN', 'PUT', `/scanners/${BUILTIN_SCANNER_UUID}`, {
          name: 'Mine',
          url: 'http://127.0.0.1:1',
        }),
        'registration Berth is not allowed to update as it is immutable: scanner API: update',
      );
      assert.equal(
        await api.expectError(403, 'FORBIDDEN', 'DELETE', `/scanners/${BUILTIN_SCANNER_UUID}`),
        'registration Berth is not allowed to delete as it is immutable: scanner API: delete',
      );
      await api.expectError(404, 'NOT_FOUND', 'GET', '/scanners/no-such-uuid');
      await api.anonymous().expect(401, 'GET', '/scanners');
      await api.as('dev', 'Dev-User-1234').expect(403, 'GET', '/scanners');
      await api
        .as('dev', 'Dev-User-1234')
        .expect(403, 'POST', '/scanners/ping', { name: 'x', url: adapter.url });
    });

    test("the built-in scanner's metadata names the imported vulnerability database; a new import shows at once", async () => {
      const path = `/scanners/${BUILTIN_SCANNER_UUID}/metadata`;
      const before = await api.expect<{ properties: Record<string, string> }>(200, 'GET', path);
      assert.match(before.body.properties['berth.vulnerability-database/version']!, /none imported/);
      const imported = await importVulnDb(
        { store: berth.app.store, now: () => new Date('2025-03-01T00:00:00Z') },
        DEBIAN12_FIXTURE_DIR,
      );
      const meta = await api.expect<{
        scanner: { name: string; vendor: string; version: string };
        capabilities: { type: string; consumes_mime_types: string[]; produces_mime_types: string[] }[];
        properties: Record<string, string>;
      }>(200, 'GET', path);
      assert.deepEqual(meta.body.scanner, { name: 'Berth', vendor: 'Berth', version: '1.0' });
      assert.deepEqual(meta.body.capabilities[0]!.produces_mime_types, [
        'application/vnd.security.vulnerability.report; version=1.1',
      ]);
      assert.equal(meta.body.properties['berth.vulnerability-database/version'], imported.version);
      assert.equal(
        meta.body.properties['harbor.scanner-adapter/vulnerability-database-updated-at'],
        '2025-03-01T00:00:00.000Z',
      );
      assert.equal(meta.body.properties['berth.vulnerability-database/records'], '13');
      await api.expectError(404, 'NOT_FOUND', 'GET', '/scanners/nope/metadata');
    });

    test('the built-in scanner reads an image pushed to Berth from storage and reports what the engine finds', async () => {
      const image = bookwormImage();
      const projectId = (await api.expect<{ project_id: number }>(200, 'GET', '/projects/scan')).body
        .project_id;
      await clientFor(berth).pushImage('scan/bookworm', image, 'v1');
      const resolved = await berth.app.scanners.forProject(projectId);
      assert.equal(resolved?.uuid, BUILTIN_SCANNER_UUID);
      const log: string[] = [];
      const result = await resolved.scanner.scan(
        target('scan/bookworm', image, projectId),
        'vulnerability',
        (l) => log.push(l),
        new AbortController().signal,
      );
      // The built-in scanner answers the report in its stored form (built in its thread).
      assert.ok(result.type === 'vulnerability' && 'stored' in result);
      const report = JSON.parse(result.stored.document) as VulnerabilityReport;
      assert.deepEqual(
        report.vulnerabilities.map((v) => `${v.id} ${v.package} ${v.version} ${v.fix_version} ${v.severity}`),
        BOOKWORM_EXPECTED,
      );
      assert.equal(result.stored.rows.length, report.vulnerabilities.length);
      assert.deepEqual(report.artifact, {
        repository: 'scan/bookworm',
        digest: image.digest,
        mime_type: image.mediaType,
      });
      // A first scan of the image: its one layer is read, none comes from an earlier scan's reading.
      assert.match(
        log.join('\n'),
        /read 1 layers \(0 of them as read by an earlier scan\): \d+ packages \(Debian:12\)/,
      );
      // A random-bytes "image" is no tar: the scan fails with a message, it does not hang or crash.
      const junk = makeImage();
      await clientFor(berth).pushImage('scan/junk', junk, 'v1');
      await assert.rejects(
        resolved.scanner.scan(
          target('scan/junk', junk, projectId),
          'vulnerability',
          () => {},
          new AbortController().signal,
        ),
      );
    });

    test('an adapter: ping, register (credential sealed), list, update, default, project scanner, delete', async () => {
      const dev = api.as('dev', 'Dev-User-1234');
      const reg = {
        name: 'Test',
        url: adapter.url,
        auth: 'X-ScannerAdapter-API-Key',
        access_credential: 'k-123',
      };
      assert.match(
        await api.expectError(400, 'BAD_REQUEST', 'POST', '/scanners/ping', {
          ...reg,
          access_credential: 'wrong',
        }),
        /invalid API key/,
      );
      await api.expect(200, 'POST', '/scanners/ping', reg);
      assert.equal(
        await api.expectError(400, 'BAD_REQUEST', 'POST', '/scanners', { ...reg, access_credential: '' }),
        'access_credential is required for auth type X-ScannerAdapter-API-Key',
      );
      assert.equal(
        await api.expectError(400, 'BAD_REQUEST', 'POST', '/scanners', { ...reg, auth: 'Digest' }),
        'auth type Digest is not supported',
      );
      assert.match(
        await api.expectError(400, 'BAD_REQUEST', 'POST', '/scanners', { ...reg, name: 'Berth' }),
        /name "Berth" is reserved/,
      );
      await api.expectError(400, 'BAD_REQUEST', 'POST', '/scanners', { ...reg, url: 'ftp://x' });
      const created = await api.expect(201, 'POST', '/scanners', { ...reg, description: 'tests' });
      const location = created.headers.get('location')!;
      const uuid = location.split('/').pop()!;
      assert.equal(location, `/api/v2.0/scanners/${uuid}`);
      await api.expectError(409, 'CONFLICT', 'POST', '/scanners', { ...reg, name: 'Other' });

      const got = await api.expect<Registration>(200, 'GET', `/scanners/${uuid}`);
      assert.equal(got.body.access_credential, undefined, 'the credential is never returned');
      assert.deepEqual(
        [got.body.name, got.body.url, got.body.auth, got.body.is_default, got.body.capabilities],
        ['Test', adapter.url, 'X-ScannerAdapter-API-Key', false, { support_vulnerability: true }],
      );
      const row = await berth.app.store.scanners.find(uuid);
      assert.match(row!.access_credential, /^v1:/);
      assert.ok(!row!.access_credential.includes('k-123'), 'sealed at rest');

      const found = await api.expect<Registration[]>(200, 'GET', '/scanners?q=name%3D~tes&page_size=1');
      assert.deepEqual([found.headers.get('x-total-count'), found.body.map((r) => r.name)], ['1', ['Test']]);
      const legacy = await api.expect<Registration[]>(200, 'GET', '/scanners?ex_name=Test');
      assert.deepEqual(
        legacy.body.map((r) => r.uuid),
        [uuid],
      );

      // An empty credential in an update keeps the stored one while the auth type needs one.
      await api.expect(200, 'PUT', `/scanners/${uuid}`, {
        ...reg,
        access_credential: '',
        description: 'edited',
      });
      const meta = await api.expect<{ scanner: { name: string } }>(200, 'GET', `/scanners/${uuid}/metadata`);
      assert.equal(meta.body.scanner.name, 'TestScan');
      assert.ok(
        adapter.requests.every((r) => r.path !== '/api/v1/metadata' || r.headers['x-scanneradapter-api-key']),
      );

      await api.expect(200, 'PATCH', `/scanners/${uuid}`, { is_default: true });
      const list = await api.expect<Registration[]>(200, 'GET', '/scanners');
      assert.deepEqual(
        list.body.map((r) => [r.name, r.is_default]),
        [
          ['Test', true],
          ['Berth', false],
        ],
      );
      assert.equal(
        await api.expectError(400, 'BAD_REQUEST', 'PUT', `/scanners/${uuid}`, { ...reg, disabled: true }),
        `default registration ${uuid} can not be marked to deactivated`,
      );
      await api.expectError(404, 'NOT_FOUND', 'PATCH', '/scanners/nope', { is_default: true });

      // The project follows the default until it chooses its own.
      const ofProject = await api.expect<Registration>(200, 'GET', '/projects/scan/scanner');
      assert.deepEqual([ofProject.body.uuid, ofProject.body.health], [uuid, 'healthy']);
      const candidates = await api.expect<Registration[]>(200, 'GET', '/projects/scan/scanner/candidates');
      assert.deepEqual([candidates.headers.get('x-total-count'), candidates.body.length], ['2', 2]);
      await api.expect(200, 'PUT', '/projects/scan/scanner', { uuid: BUILTIN_SCANNER_UUID });
      assert.equal((await api.expect<Registration>(200, 'GET', '/projects/scan/scanner')).body.name, 'Berth');
      await api.expectError(404, 'NOT_FOUND', 'PUT', '/projects/scan/scanner', { uuid: 'nope' });
      await dev.expectError(404, 'NOT_FOUND', 'GET', '/projects/scan/scanner');
      await api.anonymous().expect(401, 'GET', '/projects/scan/scanner');

      await api.expect(200, 'PUT', '/projects/scan/scanner', { uuid });
      const deleted = await api.expect<Registration>(200, 'DELETE', `/scanners/${uuid}`);
      assert.equal(deleted.body.name, 'Test');
      await api.expectError(404, 'NOT_FOUND', 'GET', `/scanners/${uuid}`);
      // The deleted default leaves no default; the project's own choice is gone with the registration.
      assert.equal((await api.expect(200, 'GET', '/projects/scan/scanner')).text, 'null');
      await api.expect(200, 'PATCH', `/scanners/${BUILTIN_SCANNER_UUID}`, { is_default: true });
      assert.equal((await api.expect<Registration>(200, 'GET', '/projects/scan/scanner')).body.name, 'Berth');
    });

    test('a scan through an adapter: it pulls with a token that reads only the scanned repository, and Berth polls until the report is ready', async () => {
      const created = await api.expect(201, 'POST', '/scanners', {
        name: 'Pull',
        url: adapter.url,
        auth: 'X-ScannerAdapter-API-Key',
        access_credential: 'k-123',
      });
      const uuid = created.headers.get('location')!.split('/').pop()!;
      await api.expect(201, 'POST', '/projects', { project_name: 'other' });
      await clientFor(berth).pushImage('other/app', makeImage(), 'v1');
      const image = makeImage({ layers: 2 });
      await clientFor(berth).pushImage('scan/app', image, 'v1');
      await api.expect(200, 'PUT', '/projects/scan/scanner', { uuid });
      const projectId = (await api.expect<{ project_id: number }>(200, 'GET', '/projects/scan')).body
        .project_id;
      const resolved = (await berth.app.scanners.forProject(projectId))!;
      assert.deepEqual([resolved.uuid, resolved.name], [uuid, 'Pull']);
      const log: string[] = [];
      const result = await resolved.scanner.scan(
        target('scan/app', image, projectId),
        'vulnerability',
        (l) => log.push(l),
        new AbortController().signal,
      );
      const scan = adapter.scans.at(-1)!;
      assert.equal(scan.request.registry.url, berth.url);
      assert.match(scan.request.registry.authorization, /^Bearer /);
      assert.deepEqual(scan.request.artifact, {
        repository: 'scan/app',
        digest: image.digest,
        tag: 'v1',
        mime_type: image.mediaType,
      });
      assert.deepEqual(scan.request.enabled_capabilities[0]!.produces_mime_types, [
        'application/vnd.security.vulnerability.report; version=1.1',
      ]);
      assert.deepEqual(
        scan.pulls.map((p) => [p.status, p.verified]),
        [
          [200, true],
          [200, true],
          [200, true],
          [200, true],
        ],
        'manifest, config and both layers pulled and verified',
      );
      // The token is the scan robot's: another project is hidden from it (404), as from any robot.
      assert.ok(
        [401, 404].includes(scan.otherRepositoryStatus!),
        'the token does not read another repository',
      );
      assert.ok([401, 403].includes(scan.pushStatus!), 'the token does not push');
      assert.ok(result.type === 'vulnerability' && 'report' in result);
      assert.deepEqual(
        result.report.vulnerabilities.map((v) => [v.id, v.severity]),
        [
          ['CVE-2099-1000', 'High'],
          ['CVE-2099-1001', 'Low'],
          ['CVE-2099-1002', 'Low'],
        ],
      );
      assert.match(log.join('\n'), /submitted to TestScan 0\.1/);
      assert.match(log.join('\n'), /report not ready/);

      // A stopped scan stops polling.
      const slow = await startTestAdapter({ notReadyPolls: 1_000_000 });
      try {
        await api.expect(200, 'PUT', `/scanners/${uuid}`, { name: 'Pull', url: slow.url });
        const again = (await berth.app.scanners.forProject(projectId))!;
        const stop = new AbortController();
        const scanning = again.scanner.scan(
          target('scan/app', image, projectId),
          'vulnerability',
          () => {},
          stop.signal,
        );
        setTimeout(() => stop.abort(), 200);
        await assert.rejects(scanning, /stopped/);
      } finally {
        await slow.close();
      }
    });

    test("POST .../scan runs through the project's adapter, which pulls past the project's vulnerability policy (Harbor's scanner-pull): the overview names it and the report is the adapter's", async () => {
      const created = await api.expect(201, 'POST', '/scanners', {
        name: 'ViaApi',
        url: adapter.url,
        auth: 'X-ScannerAdapter-API-Key',
        access_credential: 'k-123',
      });
      const uuid = created.headers.get('location')!.split('/').pop()!;
      await api.expect(201, 'POST', '/projects', {
        project_name: 'viaapi',
        metadata: { prevent_vul: 'true', severity: 'low' },
      });
      await api.expect(200, 'PUT', '/projects/viaapi/scanner', { uuid });
      const image = makeImage({ layers: 1 });
      await clientFor(berth).pushImage('viaapi/app', image, 'v1');
      // The policy holds for a client: the artifact is not scanned yet.
      await waitFor('the policy to refuse an unscanned pull', async () => {
        const res = await clientFor(berth).fetch(`/v2/viaapi/app/manifests/${image.digest}`);
        await res.body?.cancel();
        return res.status === 412;
      });
      const art = `/projects/viaapi/repositories/app/artifacts/${image.digest}`;
      await api.expect(202, 'POST', `${art}/scan`);
      const mime = 'application/vnd.security.vulnerability.report; version=1.1';
      type Overview = { scan_status: string; scanner?: { name: string } };
      const overview = await waitFor(
        'the scan through the adapter',
        async () => {
          const res = await api.expect<{ scan_overview?: Record<string, Overview> }>(
            200,
            'GET',
            `${art}?with_scan_overview=true`,
          );
          const o = res.body.scan_overview?.[mime];
          return o && ['Success', 'Error'].includes(o.scan_status) ? o : undefined;
        },
        60_000,
        100,
      );
      assert.deepEqual([overview?.scan_status, overview?.scanner?.name], ['Success', 'TestScan']);
      const report = await api.expect<Record<string, { vulnerabilities: { id: string }[] }>>(
        200,
        'GET',
        `${art}/additions/vulnerabilities`,
      );
      assert.deepEqual(
        report.body[mime]!.vulnerabilities.map((v) => v.id),
        ['CVE-2099-1000', 'CVE-2099-1001'],
      );
    });
  });
}
