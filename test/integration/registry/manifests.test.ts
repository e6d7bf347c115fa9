import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../../helpers/berth.js';
import {
  assertOciError,
  body,
  digestOf,
  makeArtifact,
  makeImage,
  makeIndex,
  manifestOf,
  mediaTypes,
  uniqueRepo,
  useBerth,
  type Manifest,
  type RegistryClient,
} from '../../helpers/registry-client.js';

async function put(client: RegistryClient, repo: string, ref: string, bytes: Buffer, contentType: string) {
  return client.fetch(`/v2/${repo}/manifests/${ref}`, {
    method: 'PUT',
    headers: { 'content-type': contentType },
    body: body(bytes),
  });
}

/** GET and HEAD by `ref` return the manifest's exact bytes and headers. */
async function assertServed(client: RegistryClient, repo: string, ref: string, m: Manifest) {
  const get = await client.fetch(`/v2/${repo}/manifests/${ref}`, { headers: { accept: m.mediaType } });
  assert.equal(get.status, 200, `GET ${ref}`);
  assert.equal(get.headers.get('content-type'), m.mediaType);
  assert.equal(get.headers.get('docker-content-digest'), m.digest);
  assert.equal(get.headers.get('content-length'), String(m.bytes.length));
  assert.deepEqual(Buffer.from(await get.arrayBuffer()), m.bytes, 'bytes are returned unchanged');

  const head = await client.fetch(`/v2/${repo}/manifests/${ref}`, {
    method: 'HEAD',
    headers: { accept: m.mediaType },
  });
  assert.equal(head.status, 200, `HEAD ${ref}`);
  assert.equal(head.headers.get('content-type'), m.mediaType);
  assert.equal(head.headers.get('docker-content-digest'), m.digest);
  assert.equal(head.headers.get('content-length'), String(m.bytes.length));
  assert.equal((await head.arrayBuffer()).byteLength, 0);
}

for (const backend of backends()) {
  describe(`manifests [${backend}]`, () => {
    const fx = useBerth(backend);

    const kinds: [string, () => Promise<{ repo: string; m: Manifest }>][] = [
      [
        'Docker schema 2 manifest',
        async () => {
          const repo = uniqueRepo();
          const m = makeImage({ format: 'docker' });
          for (const b of m.blobs) await fx.client.pushBlob(repo, b);
          return { repo, m };
        },
      ],
      [
        'OCI image manifest',
        async () => {
          const repo = uniqueRepo();
          const m = makeImage();
          for (const b of m.blobs) await fx.client.pushBlob(repo, b);
          return { repo, m };
        },
      ],
      [
        'Docker manifest list',
        async () => {
          const repo = uniqueRepo();
          const children = [makeImage({ format: 'docker' }), makeImage({ format: 'docker' })];
          for (const c of children) await fx.client.pushImage(repo, c);
          return { repo, m: makeIndex(children, 'docker') };
        },
      ],
      [
        'OCI image index',
        async () => {
          const repo = uniqueRepo();
          const children = [makeImage(), makeImage({ architecture: 'arm64' })];
          for (const c of children) await fx.client.pushImage(repo, c);
          return { repo, m: makeIndex(children) };
        },
      ],
    ];

    for (const [kind, setup] of kinds) {
      test(`${kind}: PUT by tag, GET/HEAD by tag and digest, DELETE`, async () => {
        const { repo, m } = await setup();
        const res = await put(fx.client, repo, 'latest', m.bytes, m.mediaType);
        assert.equal(res.status, 201, await res.clone().text());
        assert.equal(res.headers.get('location'), `/v2/${repo}/manifests/${m.digest}`);
        assert.equal(res.headers.get('docker-content-digest'), m.digest);
        assert.equal(res.headers.get('oci-subject'), null);

        await assertServed(fx.client, repo, 'latest', m);
        await assertServed(fx.client, repo, m.digest, m);

        const del = await fx.client.fetch(`/v2/${repo}/manifests/${m.digest}`, { method: 'DELETE' });
        assert.equal(del.status, 202);
        await assertOciError(
          await fx.client.fetch(`/v2/${repo}/manifests/${m.digest}`),
          404,
          'MANIFEST_UNKNOWN',
        );
        await assertOciError(await fx.client.fetch(`/v2/${repo}/manifests/latest`), 404, 'MANIFEST_UNKNOWN');
      });

      test(`${kind}: PUT by digest creates no tag`, async () => {
        const { repo, m } = await setup();
        const res = await put(fx.client, repo, m.digest, m.bytes, m.mediaType);
        assert.equal(res.status, 201);
        await assertServed(fx.client, repo, m.digest, m);
        const tags = await fx.client.getJson<{ tags: string[] }>(`/v2/${repo}/tags/list`);
        assert.ok(!tags.body.tags.includes('latest'));
      });
    }

    test('OCI artifact with artifactType and subject: OCI-Subject on PUT, served as pushed', async () => {
      const repo = uniqueRepo();
      const subject = makeImage();
      await fx.client.pushImage(repo, subject, 'v1');
      const sig = makeArtifact(subject, 'application/vnd.example.signature.v1');
      for (const b of sig.blobs) await fx.client.pushBlob(repo, b);
      const res = await put(fx.client, repo, sig.digest, sig.bytes, sig.mediaType);
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('oci-subject'), subject.digest);
      await assertServed(fx.client, repo, sig.digest, sig);
    });

    test('a manifest whose subject does not exist yet is accepted', async () => {
      const repo = uniqueRepo();
      const absent = makeImage();
      const sbom = makeArtifact(absent, 'application/spdx+json');
      for (const b of sbom.blobs) await fx.client.pushBlob(repo, b);
      const res = await put(fx.client, repo, sbom.digest, sbom.bytes, sbom.mediaType);
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('oci-subject'), absent.digest);
    });

    test('a manifest pushed without Content-Type is typed by its mediaType field', async () => {
      const repo = uniqueRepo();
      const m = makeImage({ format: 'docker' });
      for (const b of m.blobs) await fx.client.pushBlob(repo, b);
      const res = await fx.client.fetch(`/v2/${repo}/manifests/v1`, { method: 'PUT', body: body(m.bytes) });
      assert.equal(res.status, 201);
      await assertServed(fx.client, repo, 'v1', m);
    });

    test('a manifest can be pushed and fetched by a sha512 digest', async () => {
      const repo = uniqueRepo();
      const m = makeImage();
      for (const b of m.blobs) await fx.client.pushBlob(repo, b);
      const d512 = digestOf(m.bytes, 'sha512');
      const res = await put(fx.client, repo, d512, m.bytes, m.mediaType);
      assert.equal(res.status, 201);
      assert.equal(res.headers.get('docker-content-digest'), d512);
      const get = await fx.client.fetch(`/v2/${repo}/manifests/${d512}`);
      assert.equal(get.status, 200);
      assert.equal(get.headers.get('docker-content-digest'), d512);
      assert.deepEqual(Buffer.from(await get.arrayBuffer()), m.bytes);
    });

    describe('content negotiation', () => {
      test('by tag, a manifest whose type the client does not accept is 404 MANIFEST_UNKNOWN', async () => {
        const repo = uniqueRepo();
        const m = makeImage();
        await fx.client.pushImage(repo, m, 'v1');
        const refused = await fx.client.fetch(`/v2/${repo}/manifests/v1`, {
          headers: { accept: mediaTypes.dockerManifest },
        });
        await assertOciError(refused, 404, 'MANIFEST_UNKNOWN');
        const headRefused = await fx.client.fetch(`/v2/${repo}/manifests/v1`, {
          method: 'HEAD',
          headers: { accept: mediaTypes.dockerManifestList },
        });
        assert.equal(headRefused.status, 404);
        const length = Number(headRefused.headers.get('content-length'));
        assert.ok(length > 0, 'a HEAD error announces the length of its GET body');
        assert.equal((await headRefused.arrayBuffer()).byteLength, 0, 'HEAD has no body');
      });

      test('Accept lists with several types, parameters and wildcards select the manifest', async () => {
        const repo = uniqueRepo();
        const m = makeImage();
        await fx.client.pushImage(repo, m, 'v1');
        const accepts = [
          `${mediaTypes.dockerManifest}, ${mediaTypes.ociManifest}`,
          `${mediaTypes.dockerManifest};q=0.9, ${mediaTypes.ociManifest};q=0.5`,
          '*/*',
          '',
        ];
        for (const accept of accepts) {
          const res = await fx.client.fetch(`/v2/${repo}/manifests/v1`, {
            headers: accept ? { accept } : {},
          });
          assert.equal(res.status, 200, `Accept: ${accept}`);
          assert.equal(res.headers.get('content-type'), mediaTypes.ociManifest);
          assert.deepEqual(Buffer.from(await res.arrayBuffer()), m.bytes);
        }
      });

      test('by digest, the manifest is served whatever the Accept header says', async () => {
        const repo = uniqueRepo();
        const m = makeImage({ format: 'docker' });
        await fx.client.pushImage(repo, m, 'v1');
        const res = await fx.client.fetch(`/v2/${repo}/manifests/${m.digest}`, {
          headers: { accept: mediaTypes.ociManifest },
        });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-type'), mediaTypes.dockerManifest);
      });
    });

    describe('refused pushes', () => {
      test('a missing layer answers 400 MANIFEST_BLOB_UNKNOWN and nothing is tagged', async () => {
        const repo = uniqueRepo();
        const m = makeImage({ layers: 2 });
        await fx.client.pushBlob(repo, m.blobs[0]!);
        await fx.client.pushBlob(repo, m.blobs[1]!);
        const res = await put(fx.client, repo, 'v1', m.bytes, m.mediaType);
        await assertOciError(res, 400, 'MANIFEST_BLOB_UNKNOWN');
        await assertOciError(await fx.client.fetch(`/v2/${repo}/manifests/v1`), 404, 'MANIFEST_UNKNOWN');
      });

      test('a missing config answers 400 MANIFEST_BLOB_UNKNOWN', async () => {
        const repo = uniqueRepo();
        const m = makeImage({ layers: 1 });
        await fx.client.pushBlob(repo, m.blobs[1]!);
        const res = await put(fx.client, repo, 'v1', m.bytes, m.mediaType);
        await assertOciError(res, 400, 'MANIFEST_BLOB_UNKNOWN');
      });

      test('an index whose child manifest is missing answers 400 MANIFEST_BLOB_UNKNOWN', async () => {
        const repo = uniqueRepo();
        const present = makeImage();
        await fx.client.pushImage(repo, present);
        const index = makeIndex([present, makeImage()]);
        const res = await put(fx.client, repo, 'multi', index.bytes, index.mediaType);
        // As CNCF distribution answers: a missing child is a missing blob of the manifest.
        await assertOciError(res, 400, 'MANIFEST_BLOB_UNKNOWN');
        await assertOciError(await fx.client.fetch(`/v2/${repo}/manifests/multi`), 404, 'MANIFEST_UNKNOWN');
      });

      test('a child manifest in another repository does not count', async () => {
        const repo = uniqueRepo();
        const child = makeImage();
        await fx.client.pushImage(uniqueRepo(), child);
        for (const b of child.blobs) await fx.client.pushBlob(repo, b);
        const index = makeIndex([child]);
        const res = await put(fx.client, repo, 'multi', index.bytes, index.mediaType);
        await assertOciError(res, 400, 'MANIFEST_BLOB_UNKNOWN');
      });

      test('a digest reference that does not match the body answers 400 DIGEST_INVALID', async () => {
        const repo = uniqueRepo();
        const m = makeImage();
        for (const b of m.blobs) await fx.client.pushBlob(repo, b);
        const res = await put(fx.client, repo, digestOf('other'), m.bytes, m.mediaType);
        await assertOciError(res, 400, 'DIGEST_INVALID');
        const bad = await put(fx.client, repo, 'sha256:1234', m.bytes, m.mediaType);
        await assertOciError(bad, 400, 'DIGEST_INVALID');
      });

      test('invalid JSON and malformed manifests answer 400 MANIFEST_INVALID', async () => {
        const repo = uniqueRepo();
        const image = makeImage();
        for (const b of image.blobs) await fx.client.pushBlob(repo, b);
        const doc = JSON.parse(image.bytes.toString()) as Record<string, unknown>;
        const cases: [string, string][] = [
          ['{"schemaVersion": 2, "mediaType": ', mediaTypes.ociManifest],
          ['[]', mediaTypes.ociManifest],
          [JSON.stringify({ ...doc, schemaVersion: 1 }), mediaTypes.ociManifest],
          [JSON.stringify({ ...doc, layers: 'nope' }), mediaTypes.ociManifest],
          [
            JSON.stringify({ ...doc, config: { mediaType: 'x', digest: 'sha256:1', size: 1 } }),
            mediaTypes.ociManifest,
          ],
          [JSON.stringify({ ...doc, mediaType: mediaTypes.ociManifest }), mediaTypes.dockerManifest],
        ];
        for (const [text, type] of cases) {
          const res = await put(fx.client, repo, 'bad', Buffer.from(text), type);
          await assertOciError(res, 400, 'MANIFEST_INVALID');
        }
      });

      test('an unknown or schema 1 media type answers 400 MANIFEST_INVALID', async () => {
        const repo = uniqueRepo();
        const image = makeImage();
        for (const b of image.blobs) await fx.client.pushBlob(repo, b);
        const doc = JSON.parse(image.bytes.toString()) as Record<string, unknown>;
        for (const type of [
          'application/vnd.example.unknown+json',
          'application/vnd.docker.distribution.manifest.v1+prettyjws',
        ]) {
          const m = manifestOf({ ...doc, mediaType: type });
          const res = await put(fx.client, repo, 'bad', m.bytes, type);
          await assertOciError(res, 400, 'MANIFEST_INVALID');
        }
      });

      test('an invalid tag answers 400', async () => {
        const repo = uniqueRepo();
        const m = makeImage();
        for (const b of m.blobs) await fx.client.pushBlob(repo, b);
        for (const tag of ['-leading-dash', 'x'.repeat(129), 'has%20space']) {
          const res = await put(fx.client, repo, tag, m.bytes, m.mediaType);
          await assertOciError(res, 400, 'TAG_INVALID', 'MANIFEST_INVALID');
        }
      });

      test('GET and HEAD of a syntactically invalid tag answer 404 MANIFEST_UNKNOWN, as distribution and the OCI conformance suite', async () => {
        const repo = uniqueRepo();
        const m = makeImage();
        for (const b of m.blobs) await fx.client.pushBlob(repo, b);
        assert.equal((await put(fx.client, repo, 'ok', m.bytes, m.mediaType)).status, 201);
        for (const tag of ['.INVALID_MANIFEST_NAME', '-leading-dash', 'x'.repeat(129)]) {
          const got = await fx.client.fetch(`/v2/${repo}/manifests/${tag}`);
          await assertOciError(got, 404, 'MANIFEST_UNKNOWN');
          const head = await fx.client.fetch(`/v2/${repo}/manifests/${tag}`, { method: 'HEAD' });
          assert.equal(head.status, 404, tag);
        }
      });

      test('a manifest over 4 MiB answers 413 with Content-Length declared', async () => {
        const repo = uniqueRepo();
        const big = Buffer.alloc(4 * 1024 * 1024 + 1, 0x20);
        const res = await put(fx.client, repo, 'big', big, mediaTypes.ociManifest);
        await assertOciError(res, 413, 'MANIFEST_INVALID', 'SIZE_INVALID');
      });

      test('a manifest over 4 MiB answers 413 when streamed without Content-Length', async () => {
        const repo = uniqueRepo();
        const chunk = new Uint8Array(256 * 1024).fill(0x20);
        let sent = 0;
        const stream = new ReadableStream<Uint8Array>({
          pull(controller) {
            if (sent >= 5 * 1024 * 1024) return controller.close();
            sent += chunk.length;
            controller.enqueue(chunk);
          },
        });
        const res = await fx.client.fetch(`/v2/${repo}/manifests/big`, {
          method: 'PUT',
          headers: { 'content-type': mediaTypes.ociManifest },
          body: stream,
          duplex: 'half',
        } as RequestInit);
        await assertOciError(res, 413, 'MANIFEST_INVALID', 'SIZE_INVALID');
      });

      test('a manifest of exactly 4 MiB is accepted', async () => {
        const repo = uniqueRepo();
        const image = makeImage({ layers: 1 });
        for (const b of image.blobs) await fx.client.pushBlob(repo, b);
        const doc = JSON.parse(image.bytes.toString()) as Record<string, unknown>;
        const base = Buffer.from(JSON.stringify({ ...doc, annotations: { pad: '' } }));
        const pad = 4 * 1024 * 1024 - base.length;
        const m = manifestOf({ ...doc, annotations: { pad: 'x'.repeat(pad) } });
        assert.equal(m.bytes.length, 4 * 1024 * 1024);
        const res = await put(fx.client, repo, 'max', m.bytes, m.mediaType);
        assert.equal(res.status, 201);
      });
    });

    describe('deletes', () => {
      test('deleting a tag removes only the tag; the manifest stays reachable by digest', async () => {
        const repo = uniqueRepo();
        const m = makeImage();
        await fx.client.pushImage(repo, m, 'v1');
        await fx.client.putManifest(repo, m, 'v2');
        const del = await fx.client.fetch(`/v2/${repo}/manifests/v1`, { method: 'DELETE' });
        assert.equal(del.status, 202);
        await assertOciError(await fx.client.fetch(`/v2/${repo}/manifests/v1`), 404, 'MANIFEST_UNKNOWN');
        await assertServed(fx.client, repo, m.digest, m);
        await assertServed(fx.client, repo, 'v2', m);
        const tags = await fx.client.getJson<{ tags: string[] }>(`/v2/${repo}/tags/list`);
        assert.deepEqual(tags.body.tags, ['v2']);
        const again = await fx.client.fetch(`/v2/${repo}/manifests/v1`, { method: 'DELETE' });
        await assertOciError(again, 404, 'MANIFEST_UNKNOWN');
      });

      test('deleting by digest removes the manifest and every tag pointing at it', async () => {
        const repo = uniqueRepo();
        const m = makeImage();
        const other = makeImage();
        await fx.client.pushImage(repo, m, 'a');
        await fx.client.putManifest(repo, m, 'b');
        await fx.client.pushImage(repo, other, 'c');
        const del = await fx.client.fetch(`/v2/${repo}/manifests/${m.digest}`, { method: 'DELETE' });
        assert.equal(del.status, 202);
        for (const ref of ['a', 'b', m.digest]) {
          await assertOciError(
            await fx.client.fetch(`/v2/${repo}/manifests/${ref}`),
            404,
            'MANIFEST_UNKNOWN',
          );
        }
        const tags = await fx.client.getJson<{ tags: string[] }>(`/v2/${repo}/tags/list`);
        assert.deepEqual(tags.body.tags, ['c']);
        const again = await fx.client.fetch(`/v2/${repo}/manifests/${m.digest}`, { method: 'DELETE' });
        await assertOciError(again, 404, 'MANIFEST_UNKNOWN');
      });

      test('a manifest listed by an index cannot be deleted until the index is', async () => {
        const repo = uniqueRepo();
        const child = makeImage();
        await fx.client.pushImage(repo, child);
        const index = makeIndex([child]);
        await fx.client.putManifest(repo, index, 'multi');
        const res = await fx.client.fetch(`/v2/${repo}/manifests/${child.digest}`, { method: 'DELETE' });
        await assertOciError(res, 403, 'DENIED');
        assert.equal(
          (await fx.client.fetch(`/v2/${repo}/manifests/${index.digest}`, { method: 'DELETE' })).status,
          202,
        );
        assert.equal(
          (await fx.client.fetch(`/v2/${repo}/manifests/${child.digest}`, { method: 'DELETE' })).status,
          202,
        );
      });

      test('moving a tag to a new manifest serves the new one', async () => {
        const repo = uniqueRepo();
        const first = makeImage();
        const second = makeImage();
        await fx.client.pushImage(repo, first, 'latest');
        await fx.client.pushImage(repo, second, 'latest');
        await assertServed(fx.client, repo, 'latest', second);
        await assertServed(fx.client, repo, first.digest, first);
      });
    });

    test('a manifest PUT of a new image under a new tag sends at most 13 SQL statements', async () => {
      // Issue 15 counted 27 (project read four times, user and groups, every policy table); projects,
      // policies and users now come from the read cache, repository and artifact rows from one upsert.
      const statements = async () => {
        const metric = fx.berth.app.metrics.getSingleMetric('berth_db_statements_total')!;
        return (await metric.get()).values[0]!.value;
      };
      const repo = uniqueRepo();
      const image = makeImage({ layers: 2 });
      await fx.client.pushImage(repo, image, 'v0');
      const counts: number[] = [];
      for (let i = 0; i < 5; i++) {
        const doc = JSON.parse(image.bytes.toString('utf8')) as Record<string, unknown>;
        const m = manifestOf({ ...doc, annotations: { n: String(i) } });
        const before = await statements();
        await fx.client.putManifest(repo, m, `v${i + 1}`);
        counts.push((await statements()) - before);
      }
      // The fewest of five: a background job poll or buffered audit write may fall inside one PUT.
      assert.ok(Math.min(...counts) <= 13, `statements per PUT: ${counts.join(', ')}`);
    });

    test('GET of an unknown tag, digest or repository answers 404', async () => {
      const repo = uniqueRepo();
      await fx.client.pushImage(repo, makeImage(), 'v1');
      await assertOciError(await fx.client.fetch(`/v2/${repo}/manifests/nope`), 404, 'MANIFEST_UNKNOWN');
      await assertOciError(
        await fx.client.fetch(`/v2/${repo}/manifests/${digestOf('nope')}`),
        404,
        'MANIFEST_UNKNOWN',
      );
      await assertOciError(
        await fx.client.fetch(`/v2/${uniqueRepo()}/manifests/v1`),
        404,
        'MANIFEST_UNKNOWN',
        'NAME_UNKNOWN',
      );
      const del = await fx.client.fetch(`/v2/${uniqueRepo()}/manifests/v1`, { method: 'DELETE' });
      await assertOciError(del, 404, 'NAME_UNKNOWN', 'MANIFEST_UNKNOWN');
    });
  });
}
