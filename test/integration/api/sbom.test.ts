import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { sbomAccessory, SBOM_ARTIFACT_TYPE } from '../../../src/services/scanning/sbom/sbom-accessory.js';
import { spdxBytes, spdxDocument } from '../../../src/services/scanning/sbom/spdx.js';
import { backends, startBerth, type RunningBerth } from '../../helpers/berth.js';
import { HarborApi } from '../../helpers/harbor-api.js';
import {
  blobOf,
  makeImage,
  mediaTypes,
  RegistryClient,
  type Manifest,
} from '../../helpers/registry-client.js';

/** The accessory Berth's scan job pushes for an SBOM, as a client would push it. */
function sbomFor(image: Manifest, created: Date): { manifest: Manifest; document: Buffer } {
  const inventory = {
    packages: [
      { kind: 'npm' as const, name: 'left-pad', version: '1.3.0', path: 'app/package.json', layer: 'l' },
    ],
    notes: [],
  };
  const document = Buffer.from(
    spdxBytes(spdxDocument(inventory, { repository: 'p/app', digest: image.digest }, { created })),
  );
  const acc = sbomAccessory(
    { digest: image.digest, mediaType: image.mediaType, size: image.bytes.length },
    document,
    created,
  );
  return {
    document,
    manifest: {
      bytes: acc.manifest,
      digest: acc.manifestDigest,
      mediaType: mediaTypes.ociManifest,
      blobs: [blobOf(acc.config, SBOM_ARTIFACT_TYPE), blobOf(acc.layer)],
    },
  };
}

for (const backend of backends()) {
  describe(`SBOM accessories (${backend})`, () => {
    let berth: RunningBerth;
    let api: HarborApi;
    let client: RegistryClient;
    const image = makeImage();
    const sbom = sbomFor(image, new Date('2026-03-01T10:00:00Z'));

    before(async () => {
      berth = await startBerth({ backend });
      api = new HarborApi(berth.url);
      client = new RegistryClient(berth.url);
      await api.expect(201, 'POST', '/projects', { project_name: 'p' });
      await client.pushImage('p/app', image, 'v1');
      await client.pushImage('p/app', sbom.manifest);
    });
    after(() => berth.close());

    test("the referrers API finds the SBOM under Harbor's artifact type", async () => {
      const { body } = await client.getJson<{ manifests: { digest: string; artifactType: string }[] }>(
        `/v2/p/app/referrers/${image.digest}?artifactType=${encodeURIComponent(SBOM_ARTIFACT_TYPE)}`,
      );
      assert.deepEqual(
        body.manifests.map((m) => [m.digest, m.artifactType]),
        [[sbom.manifest.digest, SBOM_ARTIFACT_TYPE]],
      );
    });

    test("listings show it as the image's sbom.harbor accessory, with an sbom addition link", async () => {
      const list = await api.expect<{ digest: string; accessories: { digest: string; type: string }[] }[]>(
        200,
        'GET',
        '/projects/p/repositories/app/artifacts?with_accessory=true',
      );
      assert.deepEqual(
        list.body.map((a) => [a.digest, a.accessories.map((x) => [x.digest, x.type])]),
        [[image.digest, [[sbom.manifest.digest, 'sbom.harbor']]]],
      );
      const acc = await api.expect<{ type: string; addition_links: Record<string, { href: string }> }>(
        200,
        'GET',
        `/projects/p/repositories/app/artifacts/${sbom.manifest.digest}`,
      );
      assert.equal(acc.body.type, 'SBOM');
      assert.equal(
        acc.body.addition_links.sbom?.href,
        `/api/v2.0/projects/p/repositories/app/artifacts/${sbom.manifest.digest}/additions/sbom`,
      );
    });

    test('the sbom addition returns the SPDX document; an image has none', async () => {
      const res = await api.expect<string>(
        200,
        'GET',
        `/projects/p/repositories/app/artifacts/${sbom.manifest.digest}/additions/sbom`,
      );
      assert.equal(res.headers.get('content-type'), SBOM_ARTIFACT_TYPE);
      assert.equal(res.text, sbom.document.toString());
      assert.equal((JSON.parse(res.text) as { spdxVersion: string }).spdxVersion, 'SPDX-2.3');
      await api.expectError(
        404,
        'NOT_FOUND',
        'GET',
        `/projects/p/repositories/app/artifacts/${image.digest}/additions/sbom`,
      );
    });
  });
}
