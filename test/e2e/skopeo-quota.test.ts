// Storage quotas seen by a real client: skopeo's push into a project past its limit fails with Harbor's
// "Quota exceeded" message and leaves no image; with room it goes through, and a delete frees the room.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../helpers/berth.js';
import { containerTools, type ContainerTools } from '../helpers/containers.js';
import { HarborApi } from '../helpers/harbor-api.js';
import { OciLayout, tempDir } from '../helpers/images.js';
import { needTools } from '../helpers/tools.js';

for (const backend of backends()) {
  describe(`skopeo pushes against a storage quota (${backend})`, () => {
    let berth: RunningBerth;
    let tools: ContainerTools;
    let work: string;
    let api: HarborApi;
    let projectId: number;

    before(async () => {
      berth = await startBerth({ backend });
      tools = containerTools();
      tools.login(berth.host, berth.admin);
      api = new HarborApi(berth.url);
      await api.expect(201, 'POST', '/projects', { project_name: 'capped', storage_limit: 64 * 1024 });
      projectId = (await api.expect<{ project_id: number }>(200, 'GET', '/projects/capped')).body.project_id;
      work = tempDir('skopeo-quota');
    });
    after(async () => {
      await berth?.close();
      tools?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    const used = async () =>
      (await api.expect<{ used: { storage: number } }>(200, 'GET', `/quotas/${projectId}`)).body.used.storage;
    const dest = (ref: string) => `docker://${berth.host}/${ref}`;

    it('refuses an image past the limit, accepts it with room, and frees the room on delete', async (t) => {
      if (!needTools(t, 'skopeo')) return;
      const layout = new OciLayout(join(work, 'big'));
      // Random bytes do not compress: the layer stays about 256 KiB, four times the limit.
      const built = layout.addImage({
        tag: 'v1',
        layers: [[{ path: 'data.bin', content: randomBytes(256 * 1024) }]],
      });
      const refused = await tools.skopeoFails([
        'copy',
        '--dest-tls-verify=false',
        '--retry-times=0',
        `oci:${layout.dir}:v1`,
        dest('capped/app:v1'),
      ]);
      assert.match(
        refused.stderr,
        /Quota exceeded when processing the request of adding .* of project capped/,
      );
      assert.equal(await used(), 0, 'nothing of the refused push is counted');
      const repos = await api.expect<unknown[]>(200, 'GET', '/projects/capped/repositories');
      assert.deepEqual(repos.body, []);

      await api.expect(200, 'PUT', `/quotas/${projectId}`, { hard: { storage: 4 * 1024 * 1024 } });
      await tools.skopeo(['copy', '--dest-tls-verify=false', `oci:${layout.dir}:v1`, dest('capped/app:v1')]);
      const expected = [built.manifest, built.config, ...built.layers].reduce(
        (n, d) => n + statSync(layout.blobPath(d.digest)).size,
        0,
      );
      assert.equal(await used(), expected);

      await tools.skopeo(['delete', '--tls-verify=false', dest(`capped/app@${built.manifest.digest}`)]);
      assert.equal(await used(), 0);
    });
  });
}
