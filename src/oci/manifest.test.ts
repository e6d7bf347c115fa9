import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { digestOf } from './digest.js';
import { maxManifestBytes, parseManifest } from './manifest.js';
import { mediaTypes } from './media-types.js';

const config = { mediaType: mediaTypes.ociConfig, digest: digestOf('config'), size: 6 };
const layer = {
  mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip',
  digest: digestOf('layer'),
  size: 5,
};
const child = { mediaType: mediaTypes.ociManifest, digest: digestOf('child'), size: 5 };

function bytes(doc: unknown): Buffer {
  return Buffer.from(JSON.stringify(doc));
}

function ociManifest(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { schemaVersion: 2, mediaType: mediaTypes.ociManifest, config, layers: [layer], ...extra };
}

function invalid(message: RegExp) {
  return { code: 'MANIFEST_INVALID', message };
}

describe('parseManifest accepts', () => {
  test('a Docker schema 2 manifest', () => {
    const doc = {
      schemaVersion: 2,
      mediaType: mediaTypes.dockerManifest,
      config: { ...config, mediaType: mediaTypes.dockerConfig },
      layers: [{ ...layer, mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip' }],
    };
    const m = parseManifest(bytes(doc), mediaTypes.dockerManifest);
    assert.equal(m.kind, 'image');
    assert.equal(m.mediaType, mediaTypes.dockerManifest);
    assert.equal(m.artifactType, mediaTypes.dockerConfig);
    assert.equal(m.config?.digest, config.digest);
    assert.deepEqual(
      m.blobs.map((b) => b.digest),
      [config.digest, layer.digest],
    );
    assert.deepEqual(m.manifests, []);
    assert.equal(m.subject, null);
  });

  test('a Docker manifest list', () => {
    const doc = {
      schemaVersion: 2,
      mediaType: mediaTypes.dockerManifestList,
      manifests: [
        { ...child, mediaType: mediaTypes.dockerManifest, platform: { os: 'linux', architecture: 'amd64' } },
        { ...child, digest: digestOf('arm'), platform: { os: 'linux', architecture: 'arm64' } },
      ],
    };
    const m = parseManifest(bytes(doc), mediaTypes.dockerManifestList);
    assert.equal(m.kind, 'index');
    assert.equal(m.config, null);
    assert.deepEqual(m.blobs, []);
    assert.deepEqual(
      m.manifests.map((d) => d.digest),
      [child.digest, digestOf('arm')],
    );
    assert.deepEqual(m.manifests[0]!.platform, { os: 'linux', architecture: 'amd64' });
  });

  test('an OCI image manifest, with annotations', () => {
    const m = parseManifest(bytes(ociManifest({ annotations: { a: 'b' } })), mediaTypes.ociManifest);
    assert.equal(m.kind, 'image');
    assert.equal(m.artifactType, mediaTypes.ociConfig);
    assert.deepEqual(m.annotations, { a: 'b' });
    assert.equal(m.blobs.length, 2);
  });

  test('an OCI image manifest without a mediaType field when Content-Type names it', () => {
    const doc = ociManifest();
    delete doc.mediaType;
    assert.equal(parseManifest(bytes(doc), mediaTypes.ociManifest).mediaType, mediaTypes.ociManifest);
  });

  test('a manifest whose Content-Type carries parameters or is generic JSON', () => {
    const doc = bytes(ociManifest());
    assert.equal(parseManifest(doc, `${mediaTypes.ociManifest}; charset=utf-8`).kind, 'image');
    assert.equal(parseManifest(doc, 'application/json').mediaType, mediaTypes.ociManifest);
    assert.equal(parseManifest(doc, undefined).mediaType, mediaTypes.ociManifest);
  });

  test('an OCI index, inferred from "manifests" when neither header nor field names a type', () => {
    const doc = { schemaVersion: 2, manifests: [child] };
    const m = parseManifest(bytes(doc), undefined);
    assert.equal(m.kind, 'index');
    assert.equal(m.mediaType, mediaTypes.ociIndex);
    assert.equal(m.manifests[0]!.digest, child.digest);
  });

  test('an OCI index with artifactType and subject', () => {
    const doc = {
      schemaVersion: 2,
      mediaType: mediaTypes.ociIndex,
      artifactType: 'application/vnd.example.bundle',
      manifests: [child],
      subject: child,
    };
    const m = parseManifest(bytes(doc), mediaTypes.ociIndex);
    assert.equal(m.artifactType, 'application/vnd.example.bundle');
    assert.equal(m.subject?.digest, child.digest);
  });

  test('an OCI artifact with artifactType and a subject', () => {
    const empty = { mediaType: mediaTypes.ociEmpty, digest: digestOf('{}'), size: 2 };
    const doc = ociManifest({
      artifactType: 'application/vnd.example.sbom',
      config: empty,
      layers: [{ ...layer, mediaType: 'application/spdx+json' }],
      subject: child,
    });
    const m = parseManifest(bytes(doc), mediaTypes.ociManifest);
    assert.equal(m.artifactType, 'application/vnd.example.sbom');
    assert.deepEqual(m.subject, { mediaType: child.mediaType, digest: child.digest, size: child.size });
    assert.deepEqual(
      m.blobs.map((b) => b.digest),
      [empty.digest, layer.digest],
    );
  });

  test('an OCI artifact without artifactType takes the config media type as its artifact type', () => {
    const doc = ociManifest({
      config: { ...config, mediaType: 'application/vnd.cncf.helm.config.v1+json' },
    });
    const m = parseManifest(bytes(doc), mediaTypes.ociManifest);
    assert.equal(m.artifactType, 'application/vnd.cncf.helm.config.v1+json');
  });

  test('an artifact with an empty layers list', () => {
    const m = parseManifest(bytes(ociManifest({ layers: [] })), mediaTypes.ociManifest);
    assert.deepEqual(
      m.blobs.map((b) => b.digest),
      [config.digest],
    );
  });

  test('foreign layers with urls are not required blobs', () => {
    const foreign = { ...layer, mediaType: mediaTypes.dockerForeignLayer, urls: ['https://example.com/l'] };
    const m = parseManifest(bytes(ociManifest({ layers: [layer, foreign] })), mediaTypes.ociManifest);
    assert.deepEqual(
      m.blobs.map((b) => b.digest),
      [config.digest, layer.digest],
    );
  });

  test('a sha512 descriptor digest', () => {
    const l512 = { ...layer, digest: digestOf('layer', 'sha512') };
    const m = parseManifest(bytes(ociManifest({ layers: [l512] })), mediaTypes.ociManifest);
    assert.equal(m.blobs[1]!.digest, l512.digest);
  });

  test(`a manifest of exactly ${maxManifestBytes} bytes`, () => {
    const base = bytes(ociManifest());
    const padded = Buffer.concat([base, Buffer.alloc(maxManifestBytes - base.length, ' ')]);
    assert.equal(padded.length, maxManifestBytes);
    assert.equal(parseManifest(padded, mediaTypes.ociManifest).kind, 'image');
  });
});

describe('parseManifest rejects', () => {
  test('invalid JSON', () => {
    assert.throws(
      () => parseManifest(Buffer.from('{"schemaVersion":'), undefined),
      invalid(/not valid JSON/),
    );
  });

  test('JSON that is not an object', () => {
    for (const doc of ['[]', '"text"', '2', 'null']) {
      assert.throws(() => parseManifest(Buffer.from(doc), undefined), invalid(/JSON object/), doc);
    }
  });

  test('a schemaVersion other than 2', () => {
    for (const v of [1, 3, '2', undefined]) {
      const doc = ociManifest({ schemaVersion: v });
      assert.throws(
        () => parseManifest(bytes(doc), mediaTypes.ociManifest),
        invalid(/schemaVersion/),
        String(v),
      );
    }
  });

  test('Docker schema 1, signed or not', () => {
    const doc = { schemaVersion: 1, name: 'a/b', tag: 'latest', fsLayers: [], history: [] };
    for (const type of [mediaTypes.dockerSchema1, mediaTypes.dockerSchema1Signed]) {
      assert.throws(() => parseManifest(bytes(doc), type), invalid(/schema 1/), type);
    }
  });

  test('an unknown media type, from the header or the field', () => {
    assert.throws(
      () => parseManifest(bytes(ociManifest({ mediaType: undefined })), 'application/vnd.example.thing'),
      invalid(/unsupported manifest media type "application\/vnd\.example\.thing"/),
    );
    assert.throws(
      () => parseManifest(bytes(ociManifest({ mediaType: 'application/vnd.example.thing' })), undefined),
      invalid(/unsupported manifest media type/),
    );
  });

  test('a Content-Type that differs from the mediaType field', () => {
    assert.throws(
      () => parseManifest(bytes(ociManifest()), mediaTypes.dockerManifest),
      invalid(/does not match mediaType/),
    );
  });

  test('an image manifest with "manifests", or an index with "layers"', () => {
    assert.throws(
      () => parseManifest(bytes(ociManifest({ manifests: [child] })), mediaTypes.ociManifest),
      invalid(/manifests/),
    );
    const index = { schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests: [child], layers: [layer] };
    assert.throws(() => parseManifest(bytes(index), mediaTypes.ociIndex), invalid(/layers/));
  });

  test('layers that are not an array, or manifests that are not an array', () => {
    for (const layers of [undefined, {}, 'x', null]) {
      assert.throws(
        () => parseManifest(bytes(ociManifest({ layers })), mediaTypes.ociManifest),
        invalid(/layers must be an array/),
      );
    }
    const index = { schemaVersion: 2, mediaType: mediaTypes.ociIndex, manifests: {} };
    assert.throws(
      () => parseManifest(bytes(index), mediaTypes.ociIndex),
      invalid(/manifests must be an array/),
    );
  });

  test('a missing or malformed config descriptor', () => {
    assert.throws(
      () => parseManifest(bytes(ociManifest({ config: undefined })), mediaTypes.ociManifest),
      invalid(/config must be a descriptor/),
    );
    assert.throws(
      () =>
        parseManifest(bytes(ociManifest({ config: { ...config, mediaType: '' } })), mediaTypes.ociManifest),
      invalid(/config\.mediaType/),
    );
  });

  test('a descriptor with a bad digest, naming where it is', () => {
    const bad = [
      'sha256:abc',
      'sha256:' + 'A'.repeat(64),
      'md5:' + 'a'.repeat(32),
      'not a digest',
      42,
      undefined,
    ];
    for (const digest of bad) {
      const doc = ociManifest({ layers: [layer, { ...layer, digest }] });
      assert.throws(
        () => parseManifest(bytes(doc), mediaTypes.ociManifest),
        invalid(/layers\[1\]\.digest/),
        String(digest),
      );
    }
    const index = {
      schemaVersion: 2,
      mediaType: mediaTypes.ociIndex,
      manifests: [{ ...child, digest: 'x' }],
    };
    assert.throws(() => parseManifest(bytes(index), mediaTypes.ociIndex), invalid(/manifests\[0\]\.digest/));
  });

  test('a descriptor with a bad size', () => {
    for (const size of [-1, 1.5, '5', null, undefined, Number.MAX_SAFE_INTEGER + 2]) {
      const doc = ociManifest({ layers: [{ ...layer, size }] });
      assert.throws(
        () => parseManifest(bytes(doc), mediaTypes.ociManifest),
        invalid(/layers\[0\]\.size/),
        String(size),
      );
    }
  });

  test('a subject that is not a descriptor', () => {
    for (const subject of ['sha256:abc', { ...child, size: -1 }, null]) {
      assert.throws(
        () => parseManifest(bytes(ociManifest({ subject })), mediaTypes.ociManifest),
        invalid(/subject/),
      );
    }
  });

  test('annotations that are not a string map, and a non-string artifactType', () => {
    assert.throws(
      () => parseManifest(bytes(ociManifest({ annotations: { a: 1 } })), mediaTypes.ociManifest),
      invalid(/annotations\.a/),
    );
    assert.throws(
      () => parseManifest(bytes(ociManifest({ artifactType: 7 })), mediaTypes.ociManifest),
      invalid(/artifactType/),
    );
  });

  test(`a manifest over ${maxManifestBytes} bytes with PAYLOAD_TOO_LARGE`, () => {
    const base = bytes(ociManifest());
    const padded = Buffer.concat([base, Buffer.alloc(maxManifestBytes + 1 - base.length, ' ')]);
    assert.throws(() => parseManifest(padded, mediaTypes.ociManifest), { code: 'PAYLOAD_TOO_LARGE' });
  });
});
