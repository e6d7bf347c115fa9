import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { tarArchive } from '../../helpers/images.js';
import {
  blobOf,
  descriptorOf,
  makeArtifact,
  makeImage,
  makeIndex,
  manifestOf,
  RegistryClient,
} from '../../helpers/registry-client.js';

type Artifact = {
  id: number;
  digest: string;
  type: string;
  tags?: { name: string }[];
  labels?: { id: number }[];
  references: { child_digest: string; platform?: { architecture: string } }[];
  accessories?: { digest: string; type: string }[];
  extra_attrs: Record<string, unknown>;
  addition_links: Record<string, { href: string }>;
  pull_time: string;
};

function helmChart() {
  const config = blobOf(
    Buffer.from('{"name":"mychart","version":"0.1.0"}'),
    'application/vnd.cncf.helm.config.v1+json',
  );
  const tgz = gzipSync(
    tarArchive([
      {
        path: 'mychart/Chart.yaml',
        content:
          'apiVersion: v2\nname: mychart\nversion: 0.1.0\ndependencies:\n  - name: redis\n    version: 17.0.0\n    repository: https://charts.example\n',
      },
      { path: 'mychart/values.yaml', content: 'replicas: 3\n' },
      { path: 'mychart/README.md', content: '# My chart\n' },
      { path: 'mychart/templates/deploy.yaml', content: 'kind: Deployment\n' },
    ]),
  );
  const layer = blobOf(tgz, 'application/vnd.cncf.helm.chart.content.v1.tar+gzip');
  return manifestOf(
    {
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: descriptorOf(config),
      layers: [descriptorOf(layer)],
    },
    [config, layer],
  );
}

for (const backend of backends()) {
  describe(`repositories and artifacts API (${backend})`, () => {
    let berth: RunningBerth;
    let api: HarborApi;
    let client: RegistryClient;
    const image = makeImage({ layers: 2 });
    const amd = makeImage({ architecture: 'amd64' });
    const arm = makeImage({ architecture: 'arm64' });
    const index = makeIndex([amd, arm]);
    const signature = makeArtifact(image, 'application/vnd.dev.cosign.artifact.sig.v1+json');
    const chart = helmChart();

    before(async () => {
      berth = await startBerth({ backend });
      api = new HarborApi(berth.url);
      client = new RegistryClient(berth.url);
      await api.expect(201, 'POST', '/projects', { project_name: 'p' });
      await api.expect(201, 'POST', '/projects', { project_name: 'q' });
      await client.pushImage('p/team/app', image, 'v1');
      await client.pushImage('p/team/app', amd);
      await client.pushImage('p/team/app', arm);
      await client.putManifest('p/team/app', index, 'multi');
      await client.pushImage('p/team/app', signature);
      await client.pushImage('p/charts/mychart', chart, '0.1.0');
    });
    after(() => berth.close());

    test('repositories list per project and across, with artifact counts; get by double-encoded name', async () => {
      const list = await api.expect<{ name: string; artifact_count: number }[]>(
        200,
        'GET',
        '/projects/p/repositories?sort=name',
      );
      assert.equal(list.headers.get('x-total-count'), '2');
      assert.deepEqual(
        list.body.map((r) => r.name),
        ['p/charts/mychart', 'p/team/app'],
      );
      assert.equal(list.body[1]!.artifact_count, 5);
      const all = await api.expect<{ name: string }[]>(
        200,
        'GET',
        `/repositories?q=${encodeURIComponent('name=~team')}`,
      );
      assert.deepEqual(
        all.body.map((r) => r.name),
        ['p/team/app'],
      );
      for (const encoded of ['team%252Fapp', 'team%2Fapp']) {
        const one = await api.expect<{ name: string }>(200, 'GET', `/projects/p/repositories/${encoded}`);
        assert.equal(one.body.name, 'p/team/app');
      }
      await api.expect(200, 'PUT', '/projects/p/repositories/team%252Fapp', { description: 'the app' });
      const described = await api.expect<{ description: string }>(
        200,
        'GET',
        '/projects/p/repositories/team%252Fapp',
      );
      assert.equal(described.body.description, 'the app');
      await api.expectError(404, 'NOT_FOUND', 'GET', '/projects/p/repositories/nope');
    });

    test('artifact list hides index children and accessories, shows tags, references and accessories', async () => {
      const res = await api.expect<Artifact[]>(
        200,
        'GET',
        '/projects/p/repositories/team%252Fapp/artifacts?with_accessory=true&with_label=true',
      );
      assert.equal(res.headers.get('x-total-count'), '2');
      const byDigest = new Map(res.body.map((a) => [a.digest, a]));
      const img = byDigest.get(image.digest)!;
      assert.deepEqual(
        img.tags?.map((t) => t.name),
        ['v1'],
      );
      assert.equal(img.type, 'IMAGE');
      assert.equal(img.extra_attrs.architecture, 'amd64');
      assert.equal(img.pull_time, '0001-01-01T00:00:00.000Z');
      assert.deepEqual(
        img.accessories?.map((a) => [a.digest, a.type]),
        [[signature.digest, 'signature.cosign']],
      );
      assert.match(
        img.addition_links.build_history!.href,
        /repositories\/team%252Fapp\/artifacts\/sha256:[0-9a-f]+\/additions\/build_history$/,
      );
      const idx = byDigest.get(index.digest)!;
      assert.deepEqual(
        idx.references.map((r) => [r.child_digest, r.platform?.architecture]).sort(),
        [
          [amd.digest, 'amd64'],
          [arm.digest, 'arm64'],
        ].sort(),
      );
      const everything = await api.expect<Artifact[]>(
        200,
        'GET',
        `/projects/p/repositories/team%252Fapp/artifacts?q=${encodeURIComponent('base=*')}`,
      );
      assert.equal(everything.body.length, 5);
      const tagged = await api.expect<Artifact[]>(
        200,
        'GET',
        `/projects/p/repositories/team%252Fapp/artifacts?q=${encodeURIComponent('tags=~mul')}`,
      );
      assert.deepEqual(
        tagged.body.map((a) => a.digest),
        [index.digest],
      );
      const page = await api.expect<Artifact[]>(
        200,
        'GET',
        '/projects/p/repositories/team%252Fapp/artifacts?page=2&page_size=1',
      );
      assert.equal(page.body.length, 1);
      assert.match(page.headers.get('link') ?? '', /rel="prev"/);
    });

    test('get by tag or digest; tags create, list, delete', async () => {
      const byTag = await api.expect<Artifact>(
        200,
        'GET',
        '/projects/p/repositories/team%252Fapp/artifacts/v1',
      );
      assert.equal(byTag.body.digest, image.digest);
      const base = `/projects/p/repositories/team%252Fapp/artifacts/${image.digest}`;
      const created = await api.expect(201, 'POST', `${base}/tags`, { name: 'stable' });
      assert.match(created.headers.get('location') ?? '', /\/tags\/stable$/);
      await api.expectError(409, 'CONFLICT', 'POST', `${base}/tags`, { name: 'stable' });
      await api.expectError(400, 'BAD_REQUEST', 'POST', `${base}/tags`, { name: 'bad tag!' });
      await api.expectError(400, 'BAD_REQUEST', 'POST', `${base}/tags`, { name: 'x', color: 'red' });
      const tags = await api.expect<{ name: string }[]>(200, 'GET', `${base}/tags`);
      assert.deepEqual(
        tags.body.map((t) => t.name),
        ['stable', 'v1'],
      );
      await api.expect(200, 'DELETE', `${base}/tags/stable`);
      await api.expectError(404, 'NOT_FOUND', 'DELETE', `${base}/tags/stable`);
      const pulled = await client.fetch(`/v2/p/team/app/manifests/stable`);
      assert.equal(pulled.status, 404);
    });

    test('labels: global and project labels attach, filter and detach', async () => {
      const g = await api.expect(201, 'POST', '/labels', { name: 'prod', color: '#FF0000', scope: 'g' });
      const gid = Number(g.headers.get('location')!.split('/').pop());
      const pid = (await api.expect<{ project_id: number }>(200, 'GET', '/projects/p')).body.project_id;
      const qid = (await api.expect<{ project_id: number }>(200, 'GET', '/projects/q')).body.project_id;
      const other = await api.expect(201, 'POST', '/labels', { name: 'mine', scope: 'p', project_id: qid });
      const otherId = Number(other.headers.get('location')!.split('/').pop());
      await api.expectError(409, 'CONFLICT', 'POST', '/labels', { name: 'prod', scope: 'g' });
      const base = `/projects/p/repositories/team%252Fapp/artifacts/${image.digest}/labels`;
      await api.expect(200, 'POST', base, { id: gid });
      await api.expectError(409, 'CONFLICT', 'POST', base, { id: gid });
      await api.expectError(400, 'BAD_REQUEST', 'POST', base, { id: otherId });
      await api.expectError(404, 'NOT_FOUND', 'POST', base, { id: 99999 });
      const withLabel = await api.expect<Artifact[]>(
        200,
        'GET',
        `/projects/p/repositories/team%252Fapp/artifacts?with_label=true&q=${encodeURIComponent(`labels=${gid}`)}`,
      );
      assert.deepEqual(
        withLabel.body.map((a) => [a.digest, a.labels?.map((l) => l.id)]),
        [[image.digest, [gid]]],
      );
      const globals = await api.expect<{ name: string }[]>(200, 'GET', '/labels?scope=g');
      assert.deepEqual(
        globals.body.map((l) => l.name),
        ['prod'],
      );
      const projectLabels = await api.expect<{ name: string }[]>(
        200,
        'GET',
        `/labels?scope=p&project_id=${qid}`,
      );
      assert.deepEqual(
        projectLabels.body.map((l) => l.name),
        ['mine'],
      );
      await api.expect(200, 'DELETE', `${base}/${gid}`);
      await api.expectError(404, 'NOT_FOUND', 'DELETE', `${base}/${gid}`);
      assert.ok(pid > 0);
    });

    test('additions: build history of an image; readme, values and dependencies of a chart', async () => {
      const history = await api.expect<unknown[]>(
        200,
        'GET',
        `/projects/p/repositories/team%252Fapp/artifacts/v1/additions/build_history`,
      );
      assert.ok(Array.isArray(history.body));
      const c = '/projects/p/repositories/charts%252Fmychart/artifacts/0.1.0';
      const art = await api.expect<Artifact>(200, 'GET', c);
      assert.equal(art.body.type, 'CHART');
      assert.deepEqual(Object.keys(art.body.addition_links).sort(), [
        'dependencies',
        'readme.md',
        'values.yaml',
      ]);
      assert.equal((await api.expect(200, 'GET', `${c}/additions/readme.md`)).text, '# My chart\n');
      assert.equal((await api.expect(200, 'GET', `${c}/additions/values.yaml`)).text, 'replicas: 3\n');
      const deps = await api.expect<{ name: string }[]>(200, 'GET', `${c}/additions/dependencies`);
      assert.deepEqual(
        deps.body.map((d) => d.name),
        ['redis'],
      );
      await api.expectError(404, 'NOT_FOUND', 'GET', `${c}/additions/build_history`);
      await api.expectError(400, 'BAD_REQUEST', 'GET', `${c}/additions/nonsense`);
    });

    test('copy an artifact into another project, then pull it there', async () => {
      const res = await api.expect(
        201,
        'POST',
        `/projects/q/repositories/copied/artifacts?from=${encodeURIComponent('p/team/app:multi')}`,
      );
      assert.match(
        res.headers.get('location') ?? '',
        new RegExp(`/projects/q/repositories/copied/artifacts/${index.digest}$`),
      );
      const copied = await api.expect<Artifact>(
        200,
        'GET',
        '/projects/q/repositories/copied/artifacts/multi',
      );
      assert.equal(copied.body.digest, index.digest);
      const child = await client.fetch(`/v2/q/copied/manifests/${arm.digest}`, {
        headers: { accept: arm.mediaType },
      });
      assert.equal(child.status, 200);
      const blob = await client.fetch(`/v2/q/copied/blobs/${arm.blobs[1]!.digest}`);
      assert.equal(blob.status, 200);
      await api.expectError(
        404,
        'NOT_FOUND',
        'POST',
        `/projects/q/repositories/copied/artifacts?from=${encodeURIComponent('p/team/app:nope')}`,
      );
      await api.expectError(
        400,
        'BAD_REQUEST',
        'POST',
        '/projects/q/repositories/copied/artifacts?from=garbage',
      );
    });

    test('delete: an index child is refused, the artifact goes with its tags and accessories, repository delete cascades', async () => {
      await api.expectError(
        412,
        'PRECONDITION',
        'DELETE',
        `/projects/p/repositories/team%252Fapp/artifacts/${amd.digest}`,
      );
      await api.expect(200, 'DELETE', `/projects/p/repositories/team%252Fapp/artifacts/v1`);
      await api.expectError(
        404,
        'NOT_FOUND',
        'GET',
        `/projects/p/repositories/team%252Fapp/artifacts/${image.digest}`,
      );
      const sig = await client.fetch(`/v2/p/team/app/manifests/${signature.digest}`);
      assert.equal(sig.status, 404);
      await api.expect(200, 'DELETE', '/projects/p/repositories/team%252Fapp');
      await api.expectError(404, 'NOT_FOUND', 'GET', '/projects/p/repositories/team%252Fapp');
      const gone = await client.fetch(`/v2/p/team/app/manifests/multi`);
      assert.equal(gone.status, 404);
    });
  });
}
