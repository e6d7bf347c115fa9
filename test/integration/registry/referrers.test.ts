import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backends } from '../../helpers/berth.js';
import {
  assertOciError,
  digestOf,
  makeArtifact,
  makeImage,
  makeIndex,
  mediaTypes,
  uniqueRepo,
  useBerth,
  type RegistryClient,
} from '../../helpers/registry-client.js';

interface Index {
  schemaVersion: number;
  mediaType: string;
  manifests: {
    mediaType: string;
    digest: string;
    size: number;
    artifactType?: string;
    annotations?: Record<string, string>;
  }[];
}

async function referrers(client: RegistryClient, repo: string, digest: string, artifactType?: string) {
  const query = artifactType ? `?artifactType=${encodeURIComponent(artifactType)}` : '';
  const res = await client.fetch(`/v2/${repo}/referrers/${digest}${query}`);
  const text = await res.text();
  assert.equal(res.status, 200, text);
  assert.equal(res.headers.get('content-type'), mediaTypes.ociIndex);
  const index = JSON.parse(text) as Index;
  assert.equal(index.schemaVersion, 2);
  assert.equal(index.mediaType, mediaTypes.ociIndex);
  assert.ok(Array.isArray(index.manifests));
  return { res, index };
}

const sigType = 'application/vnd.example.signature.v1+json';
const sbomType = 'application/spdx+json';

for (const backend of backends()) {
  describe(`referrers API [${backend}]`, () => {
    const fx = useBerth(backend);

    test('no referrers: 200 with an empty OCI index', async () => {
      const repo = uniqueRepo();
      const image = makeImage();
      await fx.client.pushImage(repo, image, 'v1');
      const { res, index } = await referrers(fx.client, repo, image.digest);
      assert.deepEqual(index.manifests, []);
      assert.equal(res.headers.get('oci-filters-applied'), null);
    });

    test('a subject that was never pushed: 200 with an empty OCI index', async () => {
      const repo = uniqueRepo();
      await fx.client.pushImage(repo, makeImage(), 'v1');
      const { index } = await referrers(fx.client, repo, digestOf('nothing'));
      assert.deepEqual(index.manifests, []);
    });

    test('lists every manifest whose subject is the digest, with artifactType, size and annotations', async () => {
      const repo = uniqueRepo();
      const image = makeImage();
      await fx.client.pushImage(repo, image, 'v1');
      const sig = makeArtifact(image, sigType, { 'org.example.signer': 'alice' });
      const sbom = makeArtifact(image, sbomType);
      const unrelated = makeArtifact(makeImage(), sigType);
      for (const a of [sig, sbom, unrelated]) await fx.client.pushImage(repo, a);

      const { index } = await referrers(fx.client, repo, image.digest);
      const byDigest = new Map(index.manifests.map((m) => [m.digest, m]));
      assert.equal(index.manifests.length, 2);
      assert.deepEqual(byDigest.get(sig.digest), {
        mediaType: mediaTypes.ociManifest,
        digest: sig.digest,
        size: sig.bytes.length,
        artifactType: sigType,
        annotations: { 'org.example.signer': 'alice' },
      });
      assert.deepEqual(byDigest.get(sbom.digest), {
        mediaType: mediaTypes.ociManifest,
        digest: sbom.digest,
        size: sbom.bytes.length,
        artifactType: sbomType,
      });
    });

    test('?artifactType= filters and sets OCI-Filters-Applied: artifactType', async () => {
      const repo = uniqueRepo();
      const image = makeImage();
      await fx.client.pushImage(repo, image, 'v1');
      const sig = makeArtifact(image, sigType);
      const sbom = makeArtifact(image, sbomType);
      for (const a of [sig, sbom]) await fx.client.pushImage(repo, a);

      const sigs = await referrers(fx.client, repo, image.digest, sigType);
      assert.equal(sigs.res.headers.get('oci-filters-applied'), 'artifactType');
      assert.deepEqual(
        sigs.index.manifests.map((m) => m.digest),
        [sig.digest],
      );
      const none = await referrers(fx.client, repo, image.digest, 'application/vnd.example.none');
      assert.equal(none.res.headers.get('oci-filters-applied'), 'artifactType');
      assert.deepEqual(none.index.manifests, []);
    });

    test('an image manifest with artifactType from its config is listed with that type', async () => {
      const repo = uniqueRepo();
      const image = makeImage();
      await fx.client.pushImage(repo, image, 'v1');
      const referrer = makeImage({
        subject: { mediaType: image.mediaType, digest: image.digest, size: image.bytes.length },
      });
      // Replace the plain image config type by an artifact config type.
      const doc = JSON.parse(referrer.bytes.toString()) as { config: { mediaType: string } };
      doc.config.mediaType = 'application/vnd.example.config.v1+json';
      const bytes = Buffer.from(JSON.stringify(doc));
      for (const b of referrer.blobs) await fx.client.pushBlob(repo, b);
      const put = await fx.client.putManifest(repo, {
        bytes,
        digest: digestOf(bytes),
        mediaType: referrer.mediaType,
        blobs: [],
      });
      assert.equal(put.headers.get('oci-subject'), image.digest);
      const { index } = await referrers(fx.client, repo, image.digest);
      assert.equal(index.manifests.length, 1);
      assert.equal(index.manifests[0]!.artifactType, 'application/vnd.example.config.v1+json');
    });

    test('an index can have referrers too, and referrers pushed before their subject are listed', async () => {
      const repo = uniqueRepo();
      const child = makeImage();
      await fx.client.pushImage(repo, child);
      const index = makeIndex([child]);
      const early = makeArtifact(index, sigType);
      await fx.client.pushImage(repo, early);
      await fx.client.putManifest(repo, index, 'multi');
      const { index: listed } = await referrers(fx.client, repo, index.digest);
      assert.deepEqual(
        listed.manifests.map((m) => m.digest),
        [early.digest],
      );
    });

    test('a deleted referrer disappears from the list', async () => {
      const repo = uniqueRepo();
      const image = makeImage();
      await fx.client.pushImage(repo, image, 'v1');
      const sig = makeArtifact(image, sigType);
      await fx.client.pushImage(repo, sig);
      const del = await fx.client.fetch(`/v2/${repo}/manifests/${sig.digest}`, { method: 'DELETE' });
      assert.equal(del.status, 202);
      const { index } = await referrers(fx.client, repo, image.digest);
      assert.deepEqual(index.manifests, []);
    });

    test('referrers are per repository', async () => {
      const repo = uniqueRepo();
      const image = makeImage();
      await fx.client.pushImage(repo, image, 'v1');
      const other = uniqueRepo();
      await fx.client.pushImage(other, image, 'v1');
      await fx.client.pushImage(other, makeArtifact(image, sigType));
      const { index } = await referrers(fx.client, repo, image.digest);
      assert.deepEqual(index.manifests, []);
    });

    test('a malformed digest answers 400 DIGEST_INVALID', async () => {
      const repo = uniqueRepo();
      await fx.client.pushImage(repo, makeImage(), 'v1');
      const res = await fx.client.fetch(`/v2/${repo}/referrers/sha256:xyz`);
      await assertOciError(res, 400, 'DIGEST_INVALID');
    });

    test('an unknown repository answers 404', async () => {
      const res = await fx.client.fetch(`/v2/${uniqueRepo()}/referrers/${digestOf('x')}`);
      await assertOciError(res, 404, 'NAME_UNKNOWN');
    });
  });
}
