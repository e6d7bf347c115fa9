import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BOOKWORM_EXPECTED,
  BOOKWORM_SOURCES,
  bookwormImageLayers,
  debian12Records,
  goBinary,
  layerOf,
} from '../../../../test/helpers/vulndb.js';
import { zipArchive } from '../../../../test/helpers/zip.js';
import { inventoryImage } from './inventory/index.js';
import { MemoryVulnDb } from './memory-vuln-db.js';
import { scanImage } from './scan-image.js';

const lines = (r: Awaited<ReturnType<typeof scanImage>>) =>
  r.vulnerabilities.map((v) => `${v.id} ${v.package} ${v.version} ${v.fix_version} ${v.severity}`);

describe('scanImage', () => {
  test("a Debian 12 machine's dpkg database (committed) against the Debian:12 fixture reports exactly the affected packages", async () => {
    const inventory = await inventoryImage(bookwormImageLayers());
    const installed = new Map(inventory.packages.map((p) => [p.source!.name, p.source!.version]));
    assert.equal(inventory.os?.ecosystem, 'Debian:12');
    for (const [name, version] of Object.entries(BOOKWORM_SOURCES))
      assert.equal(installed.get(name), version, name);
    assert.ok(inventory.packages.length >= 90, `${inventory.packages.length} packages`);
    const db = new MemoryVulnDb(debian12Records().map((r) => r.record));
    const report = await scanImage({ layers: bookwormImageLayers() }, db, { now: () => new Date(0) });
    assert.deepEqual(lines(report), BOOKWORM_EXPECTED);
    assert.equal(report.severity, 'Critical');
    assert.equal(report.generated_at, '1970-01-01T00:00:00.000Z');
    assert.deepEqual(report.scanner, { name: 'Berth', vendor: 'Berth', version: '1.0' });
    const sqlite = report.vulnerabilities[0]!;
    assert.deepEqual(sqlite.preferred_cvss, {
      score_v3: 9.8,
      vector_v3: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H',
    });
    assert.deepEqual(sqlite.vendor_attributes, {
      CVSS: { osv: { V3Score: 9.8, V3Vector: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' } },
    });
    assert.equal(sqlite.links[0], 'https://osv.dev/vulnerability/DEBIAN-CVE-2025-6965');
    assert.equal(sqlite.description, 'Integer truncation in SQLite');
    assert.equal(sqlite.layer?.digest, bookwormImageLayers()[0]!.digest);
  });

  test('language packages match their ecosystems with their own orderings; an image with nothing is None', async () => {
    const records = [
      {
        id: 'GHSA-p6mc-m468-83gw',
        aliases: ['CVE-2020-8203'],
        summary: 'Prototype Pollution in lodash',
        database_specific: { severity: 'HIGH', cwe_ids: ['CWE-770'] },
        affected: [
          {
            package: { ecosystem: 'npm', name: 'lodash' },
            ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '4.17.19' }] }],
          },
        ],
      },
      {
        id: 'PYSEC-2021-59',
        aliases: ['CVE-2020-14343'],
        summary: 'PyYAML full_load',
        severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H' }],
        affected: [
          {
            package: { ecosystem: 'PyPI', name: 'PyYAML' },
            ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '0' }, { fixed: '5.4' }] }],
          },
        ],
      },
      {
        id: 'GO-2023-2102',
        aliases: ['CVE-2023-39325', 'GHSA-4374-p667-p6c8'],
        summary: 'HTTP/2 rapid reset',
        affected: [
          {
            package: { ecosystem: 'Go', name: 'golang.org/x/net' },
            ranges: [{ type: 'SEMVER', events: [{ introduced: '0' }, { fixed: '0.17.0' }] }],
          },
        ],
      },
      {
        id: 'GHSA-jfh8-c2jp-5v3q',
        aliases: ['CVE-2021-44228'],
        severity: [{ type: 'CVSS_V3', score: 'CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H' }],
        affected: [
          {
            package: { ecosystem: 'Maven', name: 'org.apache.logging.log4j:log4j-core' },
            ranges: [{ type: 'ECOSYSTEM', events: [{ introduced: '2.0-beta9' }, { fixed: '2.15.0' }] }],
          },
        ],
      },
    ];
    const layer = layerOf([
      { path: 'app/node_modules/lodash/package.json', content: '{"name":"lodash","version":"4.17.15"}' },
      { path: 'app/node_modules/minimist/package.json', content: '{"name":"minimist","version":"1.2.8"}' },
      {
        path: 'usr/lib/python3/site-packages/PyYAML-5.3.1.dist-info/METADATA',
        content: 'Name: PyYAML\nVersion: 5.3.1\n',
      },
      {
        path: 'app/lib/log4j-core.jar',
        content: zipArchive([
          {
            path: 'META-INF/maven/org.apache.logging.log4j/log4j-core/pom.properties',
            content: 'groupId=org.apache.logging.log4j\nartifactId=log4j-core\nversion=2.14.1\n',
          },
        ]),
      },
      {
        path: 'bin/app',
        mode: 0o755,
        content: goBinary('go1.21.3', 'path\tapp\ndep\tgolang.org/x/net\tv0.17.0\th1:x=\n'),
      },
    ]);
    const report = await scanImage({ layers: [layer] }, new MemoryVulnDb(records));
    assert.deepEqual(lines(report), [
      'CVE-2020-14343 pyyaml 5.3.1 5.4 Critical',
      'CVE-2021-44228 org.apache.logging.log4j:log4j-core 2.14.1 2.15.0 Critical',
      'CVE-2020-8203 lodash 4.17.15 4.17.19 High',
    ]);
    assert.deepEqual(report.vulnerabilities[2]!.cwe_ids, ['CWE-770']);
    const empty = await scanImage(
      { layers: [layerOf([{ path: 'etc/hostname', content: 'x' }])] },
      new MemoryVulnDb(records),
    );
    assert.equal(empty.severity, 'None');
    assert.deepEqual(empty.vulnerabilities, []);
  });
});
