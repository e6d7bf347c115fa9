// Tag retention against a real client, on every metadata backend: images pushed with skopeo, the guides'
// "keep the latest N, preserve every release tag" policy run as a dry run (nothing goes) and then for real,
// after which skopeo finds exactly the tags the dry run said it would keep.
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/berth.js';
import { containerTools, type ContainerTools } from '../helpers/containers.js';
import { HarborApi } from '../helpers/harbor-api.js';
import { OciLayout, tempDir } from '../helpers/images.js';
import { useBerth } from '../helpers/registry-client.js';
import { createRetention, decisionOf, runRetention } from '../helpers/retention.js';
import { needTools } from '../helpers/tools.js';

for (const backend of backends()) {
  describe(`tag retention over images pushed with skopeo (${backend})`, () => {
    const fixture = useBerth(backend, { overrides: { jobs: { pollIntervalMs: 50 } } });
    let tools: ContainerTools | undefined;
    let work: string | undefined;
    let api: HarborApi;

    before(() => {
      api = new HarborApi(fixture.berth.url);
      tools = containerTools();
      tools.login(fixture.berth.host, fixture.berth.admin);
      work = tempDir('retention');
    });
    after(() => {
      tools?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    const docker = (ref: string) => `docker://${fixture.berth.host}/${ref}`;
    const tagsOf = async (repo: string) => {
      const res = await tools!.skopeo(['list-tags', '--tls-verify=false', docker(repo)]);
      return (JSON.parse(res.stdout) as { Tags: string[] }).Tags.sort();
    };

    it('keeps the latest pushed dev build and every release tag; the dry run removes nothing', async (t) => {
      if (!needTools(t, 'skopeo')) return;
      const project = (
        await api
          .expect<{ project_id: number }>(201, 'POST', '/projects', { project_name: 'tidy' })
          .then(() => api.expect<{ project_id: number }>(200, 'GET', '/projects/tidy'))
      ).body;
      const layout = new OciLayout(join(work!, 'oci'));
      const tags = ['v1.0.0', 'dev-1', 'v1.1.0', 'dev-2', 'dev-3'];
      const digests = new Map<string, string>();
      for (const tag of tags) {
        const image = layout.addImage({ tag, layers: [[{ path: 'build.txt', content: `${tag}\n` }]] });
        digests.set(tag, image.manifest.digest);
        await tools!.skopeo(['copy', '--dest-tls-verify=false', layout.ref(tag), docker(`tidy/app:${tag}`)]);
        // Push times one apart, so "latest pushed" is the order above.
        await new Promise((r) => setTimeout(r, 1100));
      }
      const id = await createRetention(api, project.project_id, [
        { template: 'latestPushedK', n: 1, tags: 'dev-*' },
        { template: 'always', tags: 'v*.*.*' },
      ]);

      const dry = await runRetention(api, id, true, 60_000);
      const dryLog = dry.logs.get('tidy/app')!;
      assert.ok(dryLog, `a task for tidy/app: ${[...dry.logs.keys()].join(', ')}`);
      for (const tag of ['dev-1', 'dev-2']) assert.equal(decisionOf(dryLog, digests.get(tag)!).mark, 'DEL');
      for (const tag of ['v1.0.0', 'v1.1.0', 'dev-3'])
        assert.equal(decisionOf(dryLog, digests.get(tag)!).mark, 'RETAIN');
      assert.deepEqual(await tagsOf('tidy/app'), [...tags].sort(), 'a dry run removes nothing');

      const run = await runRetention(api, id, false, 60_000);
      assert.equal(run.execution.status, 'Success');
      assert.deepEqual(await tagsOf('tidy/app'), ['dev-3', 'v1.0.0', 'v1.1.0']);
      const gone = await tools!.skopeoFails(['inspect', '--tls-verify=false', docker('tidy/app:dev-1')]);
      assert.match(gone.stderr, /manifest unknown|not found/i);
      // What is kept still pulls whole.
      await tools!.skopeo([
        'copy',
        '--src-tls-verify=false',
        docker('tidy/app:v1.0.0'),
        `oci:${join(work!, 'back')}:v1`,
      ]);
    });
  });
}
