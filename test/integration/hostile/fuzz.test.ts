import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import { deepArray, digestOfPath, latencyProbe, storedFiles } from '../../helpers/hostile.js';
import { tarArchive } from '../../helpers/images.js';
import {
  blobOf,
  body,
  descriptorOf,
  digestOf,
  makeImage,
  mediaTypes,
  RegistryClient,
  type Manifest,
} from '../../helpers/registry-client.js';

/**
 * Property-based fuzzing of the /v2 write paths and the content parsers behind the API pages. Each run
 * sends one generated request (manifest, upload chunk, ranged read, pushed config or chart) and checks:
 * no 5xx; every 4xx carries an OCI (/v2) or Harbor (/api) error body. After all runs: /v2/ answered
 * promptly throughout, storage holds no blob the database does not know, and every repository's
 * listing pages answer 200. CI runs a fixed seed; `npm run fuzz` runs longer with a fresh seed
 * (BERTH_FUZZ_RUNS, BERTH_FUZZ_SEED).
 */
const runs = Number(process.env.BERTH_FUZZ_RUNS ?? 120);
const seedEnv = process.env.BERTH_FUZZ_SEED ?? '1313';
const seed = seedEnv === 'random' ? Date.now() % 2 ** 31 : Number(seedEnv);
const repos = ['p/fuzz', 'p/fuzz/nested', 'p/other'];

const mediaType = fc.constantFrom(
  mediaTypes.ociManifest,
  mediaTypes.ociIndex,
  mediaTypes.dockerManifest,
  mediaTypes.dockerManifestList,
  'application/json',
  'application/vnd.docker.distribution.manifest.v1+json',
  'text/plain',
  '',
);
/** JSON values, now and then nested far deeper than any parser should follow. */
const wildJson = fc.oneof(
  { weight: 4, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 50, max: 20_000 })
      .map((n) => JSON.parse(deepArray(Math.min(n, 2000))) as unknown),
  },
);

function rawDeep(n: number): string {
  return deepArray(n);
}

interface World {
  known: Manifest[];
}

function descriptorArb(world: World) {
  return fc.record({
    mediaType: fc.oneof(mediaType, fc.string()),
    digest: fc.oneof(
      fc.constantFrom(...world.known.map((m) => m.digest)),
      fc.constantFrom(...world.known.flatMap((m) => m.blobs.map((b) => b.digest))),
      fc.stringMatching(/^sha256:[0-9a-f]{64}$/),
      fc.string(),
    ),
    size: fc.oneof(fc.nat(), fc.integer(), fc.double()),
    platform: fc.option(fc.oneof(fc.record({ architecture: fc.string(), os: fc.string() }), wildJson), {
      nil: undefined,
    }),
    annotations: fc.option(fc.dictionary(fc.string(), fc.oneof(fc.string(), wildJson)), { nil: undefined }),
  });
}

function manifestDoc(world: World) {
  return fc.oneof(
    fc.record({
      schemaVersion: fc.oneof(fc.constant(2), fc.integer()),
      mediaType: fc.option(mediaType, { nil: undefined }),
      config: descriptorArb(world),
      layers: fc.array(descriptorArb(world), { maxLength: 3 }),
      annotations: fc.option(fc.dictionary(fc.string(), fc.string()), { nil: undefined }),
      subject: fc.option(descriptorArb(world), { nil: undefined }),
    }),
    fc.record({
      schemaVersion: fc.constant(2),
      mediaType: fc.option(mediaType, { nil: undefined }),
      manifests: fc.array(descriptorArb(world), { maxLength: 3 }),
    }),
    wildJson,
  );
}

/** One generated request against the registry, with what it is for the failure message. */
type Step =
  | { kind: 'manifest'; repo: string; ref: string; type: string; bytes: Buffer }
  | { kind: 'chunk'; repo: string; range: string | undefined; data: Buffer; digest: string | undefined }
  | { kind: 'range'; repo: string; range: string }
  | { kind: 'config'; repo: string; config: Buffer }
  | { kind: 'chart'; repo: string; layer: Buffer };

function stepArb(world: World): fc.Arbitrary<Step> {
  const repo = fc.oneof(
    { weight: 5, arbitrary: fc.constantFrom(...repos) },
    { weight: 1, arbitrary: fc.string().map((s) => `p/${s}`) },
  );
  const ref = fc.oneof(
    fc.constantFrom('latest', 'v1', 'a.b-c_d'),
    fc.string({ maxLength: 140 }),
    fc.stringMatching(/^sha256:[0-9a-f]{64}$/),
  );
  const rangeHeader = fc.oneof(
    fc
      .tuple(fc.integer({ min: -5, max: 5000 }), fc.integer({ min: -5, max: 5000 }))
      .map(([a, b]) => `${a}-${b}`),
    fc.tuple(fc.nat(5000), fc.nat(5000)).map(([a, b]) => `bytes=${a}-${b}`),
    fc.string(),
  );
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        kind: fc.constant('manifest' as const),
        repo,
        ref,
        type: mediaType,
        bytes: fc.oneof(
          { weight: 4, arbitrary: manifestDoc(world).map((d) => Buffer.from(JSON.stringify(d) ?? 'null')) },
          { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }).map((a) => Buffer.from(a)) },
          {
            weight: 1,
            arbitrary: fc
              .integer({ min: 1000, max: 100_000 })
              .map((n) => Buffer.from(`{"schemaVersion":2,"manifests":[{"platform":${rawDeep(n)}}]}`)),
          },
        ),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('chunk' as const),
        repo,
        range: fc.option(rangeHeader, { nil: undefined }),
        data: fc.uint8Array({ maxLength: 2048 }).map((a) => Buffer.from(a)),
        digest: fc.option(fc.oneof(fc.string(), fc.stringMatching(/^sha256:[0-9a-f]{64}$/)), {
          nil: undefined,
        }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('range' as const),
        repo: fc.constantFrom(...repos),
        range: rangeHeader,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('config' as const),
        repo: fc.constantFrom(...repos),
        config: fc.oneof(
          wildJson.map((v) => Buffer.from(JSON.stringify(v) ?? 'null')),
          fc
            .integer({ min: 1000, max: 100_000 })
            .map((n) => Buffer.from(`{"history":${rawDeep(n)},"config":{"Env":${rawDeep(n)}}}`)),
          fc.uint8Array({ maxLength: 128 }).map((a) => Buffer.from(a)),
        ),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('chart' as const),
        repo: fc.constantFrom(...repos),
        layer: fc.oneof(
          fc.uint8Array({ maxLength: 512 }).map((a) => Buffer.from(a)),
          fc.uint8Array({ maxLength: 2048 }).map((a) => gzipSync(Buffer.from(a))),
          fc
            .array(
              fc.record({
                path: fc.oneof(
                  fc.constantFrom('c/values.yaml', 'c/README.md', 'c/Chart.yaml', 'c/requirements.yaml'),
                  fc.string({ minLength: 1, maxLength: 90 }),
                ),
                content: fc.string({ maxLength: 300 }),
              }),
              { maxLength: 4 },
            )
            .map((files) => {
              try {
                return gzipSync(tarArchive(files));
              } catch {
                return gzipSync(Buffer.from('not a tar'));
              }
            }),
        ),
      }),
    },
  );
}

for (const backend of backends()) {
  describe(`fuzz: /v2 writes and content parsers [${backend}]`, () => {
    let berth: RunningBerth;
    let api: HarborApi;
    let client: RegistryClient;
    const world: World = { known: [] };

    before(async () => {
      berth = await startBerth({ backend });
      api = new HarborApi(berth.url);
      client = new RegistryClient(berth.url);
      await api.expect(201, 'POST', '/projects', { project_name: 'p' });
      for (const repo of repos) {
        const image = makeImage();
        await client.pushImage(repo, image, 'seed');
        world.known.push(image);
      }
    });
    after(async () => {
      const closing = berth.close();
      berth.app.server.server.closeAllConnections();
      await closing;
    });

    /** Asserts no 5xx and an error body on every 4xx; `surface` picks the body shape. */
    async function check(res: Response, what: string, surface: 'oci' | 'harbor'): Promise<void> {
      const text = await res.text();
      assert.ok(res.status < 500, `${what}: ${res.status} ${text.slice(0, 300)}`);
      if (res.status >= 400 && res.status !== 416 && text !== '') {
        const parsed = JSON.parse(text) as { errors?: { code?: unknown; message?: unknown }[] };
        assert.ok(
          Array.isArray(parsed.errors) && parsed.errors.length > 0,
          `${what}: no ${surface} error body: ${text.slice(0, 200)}`,
        );
        assert.equal(typeof parsed.errors[0]!.code, 'string', what);
        assert.equal(typeof parsed.errors[0]!.message, 'string', what);
      } else if (res.status >= 400 && res.status !== 416) {
        assert.fail(`${what}: ${res.status} with an empty body`);
      }
    }

    const path = (repo: string) => repo.split('/').map(encodeURIComponent).join('/');

    async function run(step: Step): Promise<void> {
      const what = `${step.kind} ${JSON.stringify(step).slice(0, 300)}`;
      if (step.kind === 'manifest') {
        const res = await client.fetch(`/v2/${path(step.repo)}/manifests/${encodeURIComponent(step.ref)}`, {
          method: 'PUT',
          headers: step.type ? { 'content-type': step.type } : {},
          body: body(step.bytes),
        });
        return check(res, what, 'oci');
      }
      if (step.kind === 'chunk') {
        const start = await client.fetch(`/v2/${path(step.repo)}/blobs/uploads/`, { method: 'POST' });
        if (start.status !== 202) return check(start, what, 'oci');
        await start.arrayBuffer();
        const location = start.headers.get('location')!;
        const patch = await client.fetch(location, {
          method: 'PATCH',
          headers: {
            'content-type': 'application/octet-stream',
            ...(step.range === undefined ? {} : { 'content-range': step.range }),
          },
          body: body(step.data),
        });
        await check(patch, what, 'oci');
        const next = patch.headers.get('location') ?? location;
        const sep = next.includes('?') ? '&' : '?';
        const digest = step.digest ?? digestOf(step.data);
        const put = await client.fetch(`${next}${sep}digest=${encodeURIComponent(digest)}`, {
          method: 'PUT',
        });
        return check(put, what, 'oci');
      }
      if (step.kind === 'range') {
        const blob = world.known[0]!.blobs[1]!;
        const res = await client.fetch(`/v2/${path(step.repo)}/blobs/${blob.digest}`, {
          headers: { range: step.range },
        });
        return check(res, what, 'oci');
      }
      const layerBytes = step.kind === 'chart' ? step.layer : Buffer.from(`layer ${Math.random()}`);
      const config = blobOf(
        step.kind === 'config' ? step.config : Buffer.from('{"name":"c","version":"1.0.0"}'),
        step.kind === 'config' ? mediaTypes.ociConfig : 'application/vnd.cncf.helm.config.v1+json',
      );
      const layer = blobOf(
        layerBytes,
        step.kind === 'chart' ? 'application/vnd.cncf.helm.chart.content.v1.tar+gzip' : mediaTypes.ociLayer,
      );
      for (const b of [config, layer]) await client.pushBlob(step.repo, b);
      const doc = {
        schemaVersion: 2,
        mediaType: mediaTypes.ociManifest,
        config: descriptorOf(config),
        layers: [descriptorOf(layer)],
      };
      const bytes = Buffer.from(JSON.stringify(doc));
      const tag = `t${digestOf(bytes).slice(7, 19)}`;
      const res = await client.fetch(`/v2/${step.repo}/manifests/${tag}`, {
        method: 'PUT',
        headers: { 'content-type': mediaTypes.ociManifest },
        body: body(bytes),
      });
      await check(res, what, 'oci');
      if (res.status !== 201) return;
      const [project, ...rest] = step.repo.split('/');
      const base = `/api/v2.0/projects/${project}/repositories/${encodeURIComponent(encodeURIComponent(rest.join('/')))}/artifacts/${tag}`;
      const names = step.kind === 'chart' ? ['values.yaml', 'readme.md', 'dependencies'] : ['build_history'];
      await check(
        await client.fetch(`${base}?with_tag=true&with_label=true&with_accessory=true`),
        what,
        'harbor',
      );
      for (const name of names)
        await check(await client.fetch(`${base}/additions/${name}`), `${what} ${name}`, 'harbor');
    }

    test(`${runs} generated requests: no 5xx, error bodies on 4xx, /v2/ prompt, no orphan blob, pages 200`, async () => {
      const probe = latencyProbe(berth.url);
      try {
        await fc.assert(
          fc.asyncProperty(stepArb(world), (step) => run(step)),
          { seed, numRuns: runs, endOnFailure: true, verbose: true },
        );
      } finally {
        const { p90Ms, maxMs, count } = await probe.stop();
        assert.ok(count > 0);
        assert.ok(p90Ms < 100, `/v2/ p90 ${p90Ms.toFixed(1)} ms during the run (max ${maxMs.toFixed(1)} ms)`);
      }
      // Storage holds nothing the database does not know.
      for (const file of storedFiles(berth.dataDir)) {
        const digest = digestOfPath(file);
        if (digest) assert.ok(await berth.app.store.blobs.exists(digest), `orphan blob in storage: ${file}`);
        else {
          const upload = /^uploads\/([^/]+)\//.exec(file)?.[1];
          assert.ok(
            upload && (await berth.app.store.uploads.find(upload)),
            `unknown file in storage: ${file}`,
          );
        }
      }
      // Every repository's listing pages still answer.
      const listed = await api.expect<{ name: string }[]>(
        200,
        'GET',
        '/projects/p/repositories?page_size=100',
      );
      for (const { name } of listed.body) {
        const r = encodeURIComponent(encodeURIComponent(name.slice(2)));
        await api.expect(
          200,
          'GET',
          `/projects/p/repositories/${r}/artifacts?with_tag=true&with_label=true&with_accessory=true&page_size=100`,
        );
        await api.expect(200, 'GET', `/projects/p/repositories/${r}`);
      }
    });
  });
}
