// Real clients pulling through a proxy-cache project, on every backend: skopeo and podman (Debian, with
// hermetic configuration) pull an image from Debian's docker-registry (basic auth) through Berth, get
// the upstream's digests, and pull it again from the cache once the upstream is gone; skopeo also pulls
// through a second proxy project whose upstream is a docker-registry without auth (an endpoint with no
// credential, as for a public upstream).
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { containerTools, type ContainerTools } from '../../helpers/containers.js';
import { dockerRegistryBinary } from '../../helpers/docker-registry.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { OciLayout, sha256, tempDir, type BuiltImage } from '../../helpers/images.js';
import {
  addUpstreamEndpoint,
  createProxyProject,
  startUpstream,
  type Upstream,
} from '../../helpers/proxy-cache.js';
import { hasTool, needTools } from '../../helpers/tools.js';

const tools = ['skopeo', 'podman', dockerRegistryBinary];

for (const backend of backends()) {
  describe(`skopeo and podman pull through a proxy-cache project (${backend})`, () => {
    let berth: RunningBerth | undefined;
    let up: Upstream | undefined;
    let open: Upstream | undefined;
    let ct: ContainerTools | undefined;
    let work: string;
    let built: BuiltImage;
    let upstreamDigest: string;

    before(async () => {
      if (!tools.every(hasTool)) return;
      berth = await startBerth({ backend });
      up = await startUpstream();
      ct = containerTools();
      ct.login(berth.host, berth.admin);
      work = tempDir('proxy-clients');
      const layout = new OciLayout(join(work, 'src'));
      built = layout.addImage({
        tag: 'src',
        layers: [[{ path: 'etc/os-release', content: 'ID=berth-proxy\n' }], [{ path: 'opt/app/blob.bin' }]],
        cmd: ['/opt/app/run'],
      });
      const upstreamHost = new URL(up.registry.url).host;
      const creds = `${up.credential!.username}:${up.credential!.password}`;
      await ct.skopeo([
        'copy',
        '--dest-tls-verify=false',
        '--dest-creds',
        creds,
        layout.ref('src'),
        `docker://${upstreamHost}/team/app:v1`,
      ]);
      const raw = await ct.skopeo([
        'inspect',
        '--raw',
        '--tls-verify=false',
        '--creds',
        creds,
        `docker://${upstreamHost}/team/app:v1`,
      ]);
      upstreamDigest = sha256(raw.stdout);
      const api = new HarborApi(berth.url);
      await createProxyProject(api, 'hub', await addUpstreamEndpoint(api, up));
      open = await startUpstream({ auth: false });
      await ct.skopeo([
        'copy',
        '--dest-tls-verify=false',
        layout.ref('src'),
        `docker://${new URL(open.registry.url).host}/team/app:v1`,
      ]);
      await createProxyProject(api, 'open-hub', await addUpstreamEndpoint(api, open, 'open-upstream'));
    });
    after(async () => {
      await berth?.close();
      await up?.close();
      await open?.close();
      ct?.close();
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it("skopeo copies the image through Berth with the upstream's digests", async (t) => {
      if (!needTools(t, ...tools)) return;
      const dir = join(work, 'skopeo-dir');
      await ct!.skopeo([
        'copy',
        '--src-tls-verify=false',
        `docker://${berth!.host}/hub/team/app:v1`,
        `dir:${dir}`,
      ]);
      assert.equal(sha256(readFileSync(join(dir, 'manifest.json'))), upstreamDigest);
      for (const layer of built.layers)
        assert.equal(sha256(readFileSync(join(dir, layer.digest.slice('sha256:'.length)))), layer.digest);
      const { stdout } = await ct!.skopeo([
        'inspect',
        '--tls-verify=false',
        '--format',
        '{{.Digest}}',
        `docker://${berth!.host}/hub/team/app:v1`,
      ]);
      assert.equal(stdout.trim(), upstreamDigest);
    });

    it('skopeo copies through a proxy project whose upstream has no auth, the upstream asked', async (t) => {
      if (!needTools(t, ...tools)) return;
      const before = open!.gate.seen.length;
      const dir = join(work, 'skopeo-open');
      await ct!.skopeo([
        'copy',
        '--src-tls-verify=false',
        `docker://${berth!.host}/open-hub/team/app:v1`,
        `dir:${dir}`,
      ]);
      assert.equal(sha256(readFileSync(join(dir, 'manifest.json'))), upstreamDigest);
      for (const layer of built.layers)
        assert.equal(sha256(readFileSync(join(dir, layer.digest.slice('sha256:'.length)))), layer.digest);
      const asked = open!.gate.seen.slice(before).join('\n');
      for (const layer of built.layers)
        assert.match(asked, new RegExp(layer.digest), 'each layer came from the upstream');
    });

    it('podman pulls through Berth, and pulls again from the cache when the upstream is gone', async (t) => {
      if (!needTools(t, ...tools)) return;
      const ref = `${berth!.host}/hub/team/app:v1`;
      const pull = () => ct!.podman(['pull', '--signature-policy', ct!.policy, '--tls-verify=false', ref]);
      const inspect = async () =>
        (await ct!.podman(['image', 'inspect', '--format', '{{.Id}} {{.Digest}}', ref])).stdout.trim();
      await pull();
      assert.equal(await inspect(), `${built.config.digest.slice('sha256:'.length)} ${upstreamDigest}`);
      await ct!.podman(['rmi', ref]);
      await up!.close();
      up = undefined;
      await pull();
      assert.equal(await inspect(), `${built.config.digest.slice('sha256:'.length)} ${upstreamDigest}`);
    });
  });
}
