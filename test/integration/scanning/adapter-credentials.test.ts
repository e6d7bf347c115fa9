// Pluggable Scanner adapters pull from Berth as from Harbor: with the credentials of a robot account
// made for the one scan (pull and scanner-pull in the artifact's project), given as Basic when the
// adapter's metadata names no authorization type, and deleted when the scan ends. The adapter is the
// tests' own, on 127.0.0.1; it pulls the manifest and every blob with what it was given.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { backends } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { useBerth } from '../../helpers/registry-client.js';
import { debianImage, VULNERABLE_PACKAGES } from '../../helpers/scan-images.js';
import { REPORT_MIME, startTestAdapter, type TestAdapter } from '../../helpers/scanner-adapter.js';
import { waitFor } from '../../helpers/wait.js';

type Artifact = { scan_overview?: Record<string, { scan_status: string }> };
type Robot = { name: string; description: string };

for (const backend of backends()) {
  describe(`scan credentials given to an adapter (${backend})`, () => {
    const f = useBerth(backend);
    let api: HarborApi;
    let adapter: TestAdapter;

    before(async () => {
      api = new HarborApi(f.berth.url);
      adapter = await startTestAdapter({ authorizationType: null, otherRepository: 'elsewhere/app' });
      const res = await api.expect(201, 'POST', '/scanners', { name: 'Stub Scanner', url: adapter.url });
      const uuid = res.headers.get('location')!.split('/').pop()!;
      await f.berth.createProject('creds');
      await f.berth.createProject('elsewhere');
      await api.expect(200, 'PUT', '/projects/creds/scanner', { uuid });
      // Pulls of unscanned images are refused here; the scanner's own pulls are not.
      await api.expect(200, 'POST', '/projects/creds/metadatas', { prevent_vul: 'true', severity: 'low' });
    });
    after(() => adapter.close());

    test("a scan robot's Basic credentials pull the artifact during the scan and are refused after it", async () => {
      const image = debianImage(VULNERABLE_PACKAGES, 'creds');
      await f.client.pushImage('creds/app', image, 'v1');
      await f.client.pushImage('elsewhere/app', image, 'v1');
      const path = `/projects/creds/repositories/app/artifacts/${image.digest}`;
      // The policy's project list is refreshed every few seconds: wait until it refuses an ordinary pull.
      await waitFor('the pull policy to apply', async () => {
        const res = await f.client.fetch(`/v2/creds/app/manifests/${image.digest}`, {
          headers: { accept: image.mediaType },
        });
        await res.body?.cancel();
        return res.status === 412;
      });
      await api.expect(202, 'POST', `${path}/scan`);
      const status = await waitFor('the adapter scan', async () => {
        const a = await api.expect<Artifact>(200, 'GET', `${path}?with_scan_overview=true`);
        const s = a.body.scan_overview?.[REPORT_MIME]?.scan_status;
        return s && !['Pending', 'Running'].includes(s) ? s : undefined;
      });
      assert.equal(status, 'Success');

      const scan = adapter.scans.at(-1)!;
      const { authorization } = scan.request.registry;
      const basic = /^Basic (.+)$/.exec(authorization);
      assert.ok(basic, authorization);
      const [user, secret] = Buffer.from(basic[1]!, 'base64').toString('utf8').split(':');
      assert.match(user!, /^robot\$creds\+stub-scanner-[0-9a-f-]{36}$/);
      assert.ok(secret);
      // During the scan: the manifest (despite prevent_vul), the config and the layer, every digest checked.
      assert.deepEqual(
        scan.pulls.map((p) => [p.path.split('/').slice(-2).join('/'), p.status, p.verified]),
        [
          [`manifests/${image.digest}`, 200, true],
          ...image.blobs.map((b) => [`blobs/${b.digest}`, 200, true]),
        ],
      );
      // Pull in its own project only, and never push.
      assert.ok([401, 403, 404].includes(scan.otherRepositoryStatus!), String(scan.otherRepositoryStatus));
      assert.ok([401, 403].includes(scan.pushStatus!), String(scan.pushStatus));

      // After the scan the robot is gone: the same credentials are refused, and no robot is listed.
      const layer = image.blobs.at(-1)!;
      const res = await fetch(`${f.berth.url}/v2/creds/app/blobs/${layer.digest}`, {
        headers: { authorization },
      });
      await res.arrayBuffer();
      assert.equal(res.status, 401);
      const projectId = (await api.expect<{ project_id: number }>(200, 'GET', '/projects/creds')).body
        .project_id;
      const robots = await api.expect<Robot[]>(
        200,
        'GET',
        `/robots?q=${encodeURIComponent(`Level=project,ProjectID=${projectId}`)}`,
      );
      assert.deepEqual(
        robots.body.filter((r) => r.description === 'for scan'),
        [],
      );
    });
  });
}
