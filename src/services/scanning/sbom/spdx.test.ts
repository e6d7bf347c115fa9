import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { bookwormImageLayers, layerOf } from '../../../../test/helpers/vulndb.js';
import { inventoryImage, type Inventory } from '../builtin/inventory/index.js';
import { sbomAccessory, SBOM_ARTIFACT_TYPE, SBOM_LAYER_MEDIA_TYPE } from './sbom-accessory.js';
import { purlOf, spdxBytes, spdxDocument } from './spdx.js';

const subject = { repository: 'lib/app', digest: `sha256:${'a'.repeat(64)}`, tag: 'v1' };
const created = new Date('2026-01-02T03:04:05.678Z');

const small: Inventory = {
  os: { id: 'debian', versionId: '12', prettyName: 'Debian GNU/Linux 12 (bookworm)', ecosystem: 'Debian:12' },
  packages: [
    {
      kind: 'npm',
      name: '@babel/core',
      version: '7.24.0',
      path: 'app/node_modules/@babel/core/package.json',
      layer: 'sha256:l2',
    },
    {
      kind: 'os',
      name: 'libssl3',
      version: '3.0.11-1~deb12u2',
      source: { name: 'openssl', version: '3.0.11-1~deb12u2' },
      path: 'var/lib/dpkg/status',
      layer: 'sha256:l1',
    },
    { kind: 'PyPI', name: 'requests', version: '2.31.0', path: 'x/METADATA', layer: 'sha256:l2' },
  ],
  notes: [],
};

describe('spdxDocument', () => {
  test('describes the image, its OS containing OS packages, and language packages, with purls', () => {
    const doc = spdxDocument(small, subject, { created });
    assert.equal(doc.spdxVersion, 'SPDX-2.3');
    assert.equal(doc.dataLicense, 'CC0-1.0');
    assert.equal(doc.name, 'lib/app:v1');
    assert.equal(doc.creationInfo.created, '2026-01-02T03:04:05Z');
    assert.match(
      doc.documentNamespace,
      /^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
    const [image, os, ...pkgs] = doc.packages;
    assert.equal(image!.SPDXID, 'SPDXRef-Image');
    assert.equal(image!.primaryPackagePurpose, 'CONTAINER');
    assert.deepEqual(image!.checksums, [{ algorithm: 'SHA256', checksumValue: 'a'.repeat(64) }]);
    assert.equal(os!.primaryPackagePurpose, 'OPERATING-SYSTEM');
    assert.deepEqual(
      pkgs.map((p) => [p.name, p.versionInfo, p.externalRefs?.[0]?.referenceLocator]),
      [
        [
          'libssl3',
          '3.0.11-1~deb12u2',
          'pkg:deb/debian/libssl3@3.0.11-1~deb12u2?distro=debian-12&upstream=openssl',
        ],
        ['requests', '2.31.0', 'pkg:pypi/requests@2.31.0'],
        ['@babel/core', '7.24.0', 'pkg:npm/%40babel/core@7.24.0'],
      ],
    );
    const contains = (from: string, name: string) =>
      doc.relationships.some(
        (r) =>
          r.spdxElementId === from &&
          r.relationshipType === 'CONTAINS' &&
          r.relatedSpdxElement === pkgs.find((p) => p.name === name)!.SPDXID,
      );
    assert.ok(contains('SPDXRef-OperatingSystem', 'libssl3'));
    assert.ok(contains('SPDXRef-Image', '@babel/core'));
    assert.deepEqual(doc.relationships[0], {
      spdxElementId: 'SPDXRef-DOCUMENT',
      relatedSpdxElement: 'SPDXRef-Image',
      relationshipType: 'DESCRIBES',
    });
    assert.match(
      pkgs[0]!.sourceInfo!,
      /^dpkg: \/var\/lib\/dpkg\/status \(layer sha256:l1\); source package openssl/,
    );
    assert.ok(pkgs.every((p) => /^SPDXRef-Package-[0-9a-f]{16}$/.test(p.SPDXID)));
  });

  test('is deterministic: package order in the inventory does not change the bytes', () => {
    const reversed = { ...small, packages: [...small.packages].reverse() };
    assert.deepEqual(
      spdxBytes(spdxDocument(small, subject, { created })),
      spdxBytes(spdxDocument(reversed, subject, { created })),
    );
    const later = spdxDocument(small, subject, { created: new Date('2026-01-03T00:00:00Z') });
    assert.notEqual(later.documentNamespace, spdxDocument(small, subject, { created }).documentNamespace);
  });

  test('lists every installed package of a real Debian 12 dpkg database once', async () => {
    const inventory = await inventoryImage(bookwormImageLayers());
    const doc = spdxDocument(inventory, { repository: 'lib/bookworm', digest: subject.digest }, { created });
    const osPkgs = doc.packages.filter((p) => p.primaryPackagePurpose === 'LIBRARY');
    assert.equal(osPkgs.length, new Set(inventory.packages.map((p) => `${p.name}@${p.version}`)).size);
    assert.ok(osPkgs.length > 50, `${osPkgs.length} packages`);
    assert.equal(new Set(doc.packages.map((p) => p.SPDXID)).size, doc.packages.length);
    const bash = osPkgs.find((p) => p.name === 'bash');
    assert.match(
      bash!.externalRefs![0]!.referenceLocator,
      /^pkg:deb\/debian\/bash@5\.2\.15-2[^?]*\?distro=debian-12$/,
    );
    assert.equal(doc.name, `lib/bookworm@${subject.digest}`);
  });

  test('purls of apk, rpm, Go and Maven packages', async () => {
    const alpine = await inventoryImage([
      layerOf([
        { path: 'etc/os-release', content: 'ID=alpine\nVERSION_ID=3.19.1\n' },
        { path: 'lib/apk/db/installed', content: 'P:musl\nV:1.2.4_git20230717-r4\no:musl\n\n' },
      ]),
    ]);
    assert.deepEqual(
      alpine.packages.map((p) => purlOf(p, alpine.os)),
      ['pkg:apk/alpine/musl@1.2.4_git20230717-r4?distro=alpine-3.19.1'],
    );
    const where = { path: 'usr/bin/x', layer: 'sha256:l' };
    assert.equal(
      purlOf({ kind: 'Go', name: 'golang.org/x/net', version: 'v0.17.0', ...where }, undefined),
      'pkg:golang/golang.org/x/net@v0.17.0',
    );
    assert.equal(
      purlOf(
        { kind: 'Maven', name: 'org.apache.logging.log4j:log4j-core', version: '2.14.1', ...where },
        undefined,
      ),
      'pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1',
    );
    assert.equal(
      purlOf(
        {
          kind: 'os',
          name: 'openssl-libs',
          version: '1:3.0.7-25.el9',
          path: 'var/lib/rpm/rpmdb.sqlite',
          layer: 'l',
        },
        { id: 'rocky', versionId: '9.3', prettyName: 'Rocky' },
      ),
      'pkg:rpm/rocky/openssl-libs@1%3A3.0.7-25.el9?distro=rocky-9.3',
    );
  });
});

describe('sbomAccessory', () => {
  test("is Harbor's accessory: sbom config media type, the document as its one layer, the image as subject", () => {
    const document = spdxBytes(spdxDocument(small, subject, { created }));
    const acc = sbomAccessory(
      { digest: subject.digest, mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 527 },
      document,
      created,
    );
    type Desc = { mediaType: string; size: number; digest: string };
    const manifest = JSON.parse(acc.manifest.toString()) as {
      mediaType: string;
      config: Desc;
      layers: Desc[];
      subject: Desc;
      annotations: Record<string, string>;
    };
    assert.equal(manifest.mediaType, 'application/vnd.oci.image.manifest.v1+json');
    assert.equal(manifest.config.mediaType, SBOM_ARTIFACT_TYPE);
    assert.deepEqual(manifest.layers, [
      { mediaType: SBOM_LAYER_MEDIA_TYPE, size: document.length, digest: manifest.layers[0]!.digest },
    ]);
    assert.deepEqual(acc.layer, Buffer.from(document));
    assert.deepEqual(manifest.subject, {
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      size: 527,
      digest: subject.digest,
    });
    assert.deepEqual(manifest.annotations, {
      created: '2026-01-02T03:04:05Z',
      'created-by': 'Berth',
      'org.opencontainers.artifact.created': '2026-01-02T03:04:05Z',
      'org.opencontainers.artifact.description': 'SPDX JSON SBOM',
    });
    const again = sbomAccessory(
      { digest: subject.digest, mediaType: manifest.subject.mediaType, size: 527 },
      document,
      created,
    );
    assert.equal(again.manifestDigest, acc.manifestDigest);
  });
});
